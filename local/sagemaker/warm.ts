/**
 * How local jobs are started: one plain `python` subprocess per job (cold), or a fresh fork
 * of a long-lived Python process that has already imported torch, transformers, peft and
 * opacus (warm, jobs/rewardds_jobs/warm.py). Either way a job is its own process, in its
 * own process group, with its own environment, log, exit status and stop. The warm process
 * saves each job the seconds of imports; when it cannot start, jobs fall back to cold ones
 * and their progress line says why. Local mode only: on AWS every job is a fresh container.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  DEFAULT_JOBS_DIR,
  startJobProcess,
  stopProcessGroup,
  type JobExit,
  type JobProcess,
  type JobProcessSpec,
} from './supervisor.js';

/** How one job was started, for its progress line. */
export type LaunchMode = { kind: 'warm' } | { kind: 'cold'; why?: string };

export interface LaunchedJob extends JobProcess {
  mode: LaunchMode;
}

export interface JobLauncher {
  /** Resolves once the launcher knows how it will start jobs; never rejects. */
  ready(): Promise<LaunchMode>;
  start(spec: JobProcessSpec): LaunchedJob;
  close(): Promise<void>;
}

/** One plain subprocess per job (`rewardds run --local --cold`, and the fallback). */
export function coldLauncher(why?: string): JobLauncher {
  const mode: LaunchMode = why ? { kind: 'cold', why } : { kind: 'cold' };
  return {
    ready: async () => mode,
    start: (spec) => ({ ...startJobProcess(spec), mode }),
    close: async () => undefined,
  };
}

/** The heavy imports every stage needs; importing them is what a cold job spends its first seconds on. */
export const DEFAULT_PRELOAD = ['torch', 'transformers', 'peft', 'opacus'];

const WARM_SERVER = join(DEFAULT_JOBS_DIR, 'rewardds_jobs', 'warm.py');

export interface WarmLauncherOptions {
  python: string;
  /** The environment every job shares (base environment and PYTHONPATH); libraries read some of it at import. */
  env: Record<string, string>;
  /** The server's own stderr (import warnings; it never sees a record). */
  logPath: string;
  preload?: string[];
  /** Give up on the warm process (and start jobs cold) if it is not ready by then. */
  readyTimeoutMs?: number;
  /** Called once the launcher knows whether it is warm, with a line for the progress output. */
  onReady?: (line: string) => void;
}

interface PendingJob {
  pid?: number;
  stopRequested: boolean;
  ended: boolean;
  settle: (exit: JobExit) => void;
}

/** Starts the warm job process now (it imports while the run is being set up) and forks jobs from it. */
export function warmLauncher(options: WarmLauncherOptions): JobLauncher {
  const log = openSync(options.logPath, 'a');
  const server: ChildProcess = spawn(
    options.python,
    ['-P', WARM_SERVER, '--preload', (options.preload ?? DEFAULT_PRELOAD).join(',')],
    { env: options.env, stdio: ['pipe', 'pipe', log] },
  );
  closeSync(log);
  const pending = new Map<number, PendingJob>();
  let nextId = 1;
  let fallback: JobLauncher | undefined;
  const goCold = (why: string) => {
    fallback ??= coldLauncher(`warm job process ${why}`);
    for (const job of pending.values()) job.settle({ code: null, signal: null, error: `the warm job process ${why}` });
    pending.clear();
  };

  let known = false;
  let resolveReady!: (mode: LaunchMode) => void;
  const ready = new Promise<LaunchMode>((r) => (resolveReady = r));
  const settleReady = (mode: LaunchMode, line: string) => {
    if (known) return;
    known = true;
    clearTimeout(timeout);
    options.onReady?.(line);
    resolveReady(mode);
  };
  const unavailable = (why: string) => {
    goCold(why);
    settleReady(
      { kind: 'cold', why: `warm job process ${why}` },
      `warm job process ${why}: each job runs as a plain subprocess`,
    );
  };
  const timeoutMs = options.readyTimeoutMs ?? 300_000;
  const timeout = setTimeout(() => {
    unavailable(`was not ready after ${timeoutMs / 1000} s`);
    server.kill('SIGKILL');
  }, timeoutMs);
  timeout.unref();

  server.once('error', (error) => unavailable(`could not start (${error.message})`));
  server.once('exit', (code, signal) =>
    unavailable(`ended (${signal ?? `exit code ${code}`}; see ${options.logPath})`),
  );
  server.stdin!.on('error', () => undefined); // a dead server is reported by 'exit'
  createInterface({ input: server.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as {
      ready?: boolean;
      seconds?: number;
      preloaded?: string[];
      failed?: string[];
      reason?: string;
      id?: number;
      pid?: number;
      code?: number | null;
      signal?: string | null;
    };
    if (message.ready !== undefined) {
      if (message.ready) {
        const failed = message.failed?.length ? `; could not import ${message.failed.join(', ')}` : '';
        settleReady(
          { kind: 'warm' },
          `warm job process ready in ${message.seconds?.toFixed(1)}s (imported ${message.preloaded?.join(', ') || 'nothing'}${failed}): each job is a fresh fork of it`,
        );
      }
      return;
    }
    const job = pending.get(message.id!);
    if (!job) return;
    if (message.pid !== undefined) {
      job.pid = message.pid;
      if (job.stopRequested) stopProcessGroup(job.pid, () => job.ended);
      return;
    }
    pending.delete(message.id!);
    job.ended = true;
    job.settle({ code: message.code ?? null, signal: message.signal ?? null });
  });

  return {
    ready: () => ready,
    start(spec) {
      if (fallback) return fallback.start(spec);
      const id = nextId++;
      let settle!: (exit: JobExit) => void;
      const exited = new Promise<JobExit>((r) => (settle = r));
      const job: PendingJob = { stopRequested: false, ended: false, settle };
      pending.set(id, job);
      const request = { id, argv: spec.argv, env: spec.env, cwd: spec.cwd, log: spec.logPath };
      server.stdin!.write(`${JSON.stringify(request)}\n`);
      return {
        mode: { kind: 'warm' },
        exited,
        stop() {
          job.stopRequested = true;
          if (job.pid !== undefined) stopProcessGroup(job.pid, () => job.ended);
        },
      };
    },
    async close() {
      clearTimeout(timeout);
      if (server.exitCode !== null || server.signalCode !== null) return;
      const ended = new Promise((r) => server.once('exit', r));
      // Still importing: no job can be running, and it would read stdin only once done.
      if (!known) server.kill('SIGKILL');
      else server.stdin!.end(); // the server kills any job still running, and exits
      await ended;
    },
  };
}
