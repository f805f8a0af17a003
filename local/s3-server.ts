/**
 * moto's server mode on loopback: a real S3 (and KMS) protocol endpoint for local mode and
 * tests, with no AWS account and no Docker. State lives in the child process's memory, so
 * whatever a caller wants to keep must be copied out before `stop()`.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface S3Server {
  /** `http://127.0.0.1:<port>`: give it to clients as their endpoint (S3 and KMS alike). */
  endpoint: string;
  port: number;
  /**
   * Environment for an AWS SDK client or a child process aimed at this server: the
   * endpoints plus throw-away credentials and a region, since the SDK insists on them.
   */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface StartS3ServerOptions {
  /** How long to wait for the first answer (default 30 s; a cold Python import is slow on a busy machine). */
  startTimeoutMs?: number;
  /** Where to look for `.venv/` (default: the repository holding this file). */
  repoRoot?: string;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The command that runs moto's server: REWARDDS_PYTHON wins, then the repo's venv, then python3 on PATH. */
export function motoCommand(port: number, repoRoot = REPO_ROOT, env = process.env): { file: string; args: string[] } {
  const serverArgs = ['-H', '127.0.0.1', '-p', String(port)];
  if (env.REWARDDS_PYTHON) return { file: env.REWARDDS_PYTHON, args: ['-m', 'moto.server', ...serverArgs] };
  const venvServer = join(repoRoot, '.venv', 'bin', 'moto_server');
  if (existsSync(venvServer)) return { file: venvServer, args: serverArgs };
  return { file: 'python3', args: ['-m', 'moto.server', ...serverArgs] };
}

/** Asks the kernel for a port nobody holds right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts moto on a free loopback port and resolves once it answers HTTP. Retries with a new
 * port when another process grabs the probed one between the probe and moto's bind.
 */
export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3Server> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startOnce(await freePort(), options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(port: number, options: StartS3ServerOptions): Promise<S3Server> {
  const { file, args } = motoCommand(port, options.repoRoot ?? REPO_ROOT);
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } });
  // Keep moto's last words for the error message if it dies during start-up.
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-2000);
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  child.once('exit', (code, signal) => {
    exited = { code, signal };
  });
  // A test runner that dies must not leave moto holding the port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (spawnError) throw new Error(`moto server could not start (${file}): ${spawnError.message}`);
      if (exited) throw new Error(`moto server exited during start-up (code ${exited.code}): ${stderrTail.trim()}`);
      if (await answers(endpoint)) break;
      if (Date.now() > deadline) throw new Error(`moto server did not answer on ${endpoint} in time`);
      await sleep(150);
    }
  } catch (error) {
    process.removeListener('exit', killOnExit);
    await stopChild(child, () => exited !== undefined);
    throw error;
  }

  return {
    endpoint,
    port,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ENDPOINT_URL_KMS: endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      await stopChild(child, () => exited !== undefined);
    },
  };
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess, hasExited: () => boolean): Promise<void> {
  if (hasExited() || child.exitCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/**
 * Creates a symmetric KMS key in the server's KMS and returns its ARN. Spoken as KMS's
 * JSON protocol over fetch, because the project carries no KMS SDK client and needs only
 * this one call (moto does not check request signatures).
 */
export async function createKmsKey(
  server: Pick<S3Server, 'endpoint'>,
  description = 'rewardds local key',
): Promise<string> {
  const response = await fetch(`${server.endpoint}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'TrentService.CreateKey',
      // moto routes by the service named in the credential scope.
      Authorization:
        'AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify({ Description: description, KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' }),
  });
  const body = (await response.json()) as { KeyMetadata?: { Arn?: string } };
  const arn = body.KeyMetadata?.Arn;
  if (!response.ok || !arn) throw new Error(`KMS CreateKey on ${server.endpoint} failed with HTTP ${response.status}`);
  return arn;
}

/** An S3 client aimed at the server: path-style, and checksums only when required (streamed uploads). */
export function s3ClientFor(server: Pick<S3Server, 'endpoint'>): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}
