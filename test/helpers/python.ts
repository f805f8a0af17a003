/**
 * The project's Python, for tests that check TypeScript against the Python side live
 * (Opacus' accountant, the jobs). REWARDDS_PYTHON wins; else <repo>/.venv/bin/python.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** Path of the interpreter; throws with the fix when there is none. */
export function pythonPath(): string {
  const path = process.env.REWARDDS_PYTHON ?? resolve(repoRoot, '.venv/bin/python');
  if (!existsSync(path)) {
    throw new Error(
      `no Python at ${path}: create the venv (python3.11 -m venv .venv && .venv/bin/pip install -r jobs/requirements-cpu.txt) or set REWARDDS_PYTHON`,
    );
  }
  return path;
}

/**
 * Runs `script` with `input` as JSON on stdin and parses its stdout as one JSON document.
 * Rejects with the script's stderr when it exits non-zero.
 */
export function runPythonJson<T = unknown>(script: string, input: unknown, { timeoutMs = 120_000 } = {}): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(pythonPath(), ['-c', script], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
      env: { ...process.env, PYTHONWARNINGS: 'ignore', PYTHONDONTWRITEBYTECODE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`python exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(stdout) as T);
      } catch {
        reject(new Error(`python printed no JSON: ${stdout.slice(0, 500)} ${stderr.slice(-1000)}`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}
