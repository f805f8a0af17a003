/**
 * A job's process on this machine: started with the job's environment only, its output
 * appended to the job's log, in a process group of its own so that stopping the job ends
 * every process it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Test-only: a comma-separated list of stages the backend fails instead of running. */
export const FAIL_STAGE_ENV = 'REWARDDS_LOCAL_FAIL_STAGE';

/** Seconds between SIGTERM and SIGKILL when a job is stopped. */
const STOP_GRACE_MS = 5000;

export interface JobProcessSpec {
  python: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logPath: string;
}

/** How a job process ended: its exit code, or the signal that ended it (then `code` is null). */
export interface JobExit {
  code: number | null;
  signal: string | null;
  /** Set when the job's end could not be observed (the warm job process it was forked from died). */
  error?: string;
}

export interface JobProcess {
  /** Resolves once the process has ended. */
  exited: Promise<JobExit>;
  /** SIGTERM to the whole group, SIGKILL after a grace period if it still runs. */
  stop(): void;
}

export function startJobProcess(spec: JobProcessSpec): JobProcess {
  const log = openSync(spec.logPath, 'a');
  let child: ChildProcess | undefined;
  const exited = new Promise<JobExit>((resolvePromise) => {
    child = spawn(spec.python, spec.argv, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', log, log],
      detached: true,
    });
    const settle = (exit: JobExit) => {
      closeSync(log);
      resolvePromise(exit);
    };
    child.once('error', (error) => {
      writeFileSync(spec.logPath, `could not start ${spec.python}: ${error.message}\n`, { flag: 'a' });
      settle({ code: 127, signal: null });
    });
    child.once('exit', (code, signal) => settle({ code, signal }));
  });
  return {
    exited,
    stop() {
      const running = child;
      if (!running?.pid) return;
      stopProcessGroup(running.pid, () => running.exitCode !== null || running.signalCode !== null);
    },
  };
}

/** FailureReason of a job that ended without success and wrote no failure file. */
export function exitReason(exit: JobExit): string {
  if (exit.error !== undefined) return `AlgorithmError: ${exit.error}; see its log`;
  if (exit.signal !== null) return `AlgorithmError: the job was killed by signal ${exit.signal}; see its log`;
  return `AlgorithmError: the job exited with code ${exit.code}; see its log`;
}

/** argv of a job: its stage, or a stand-in that fails the way a stage would (tests of the failure path). */
export function jobArgv(stage: string, injectFailure: boolean): string[] {
  return injectFailure ? ['-c', INJECTED_FAILURE, stage] : ['-m', 'rewardds_jobs', stage];
}

/** Stand-in body for an injected failure: fails through the same failure file a real job writes. */
const INJECTED_FAILURE = [
  'import os, pathlib, sys',
  'p = pathlib.Path(os.environ["SM_OUTPUT_DIR"]) / "failure"',
  'p.parent.mkdir(parents=True, exist_ok=True)',
  `p.write_text("injected failure: ${FAIL_STAGE_ENV} names stage " + sys.argv[1] + "\\n")`,
  'sys.exit(1)',
].join('\n');

/** SIGTERM to a job's whole process group now, SIGKILL after a grace period unless it has `ended()`. */
export function stopProcessGroup(pid: number, ended: () => boolean) {
  signalGroup(pid, 'SIGTERM');
  setTimeout(() => {
    if (!ended()) signalGroup(pid, 'SIGKILL');
  }, STOP_GRACE_MS).unref();
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal); // not (yet) a group leader
    } catch {
      // already gone
    }
  }
}

/**
 * A job sees what a SageMaker container would: no AWS credentials (a job never talks to
 * S3) and no hub access (models are built offline).
 *
 * One intra-op thread per job unless the caller sets OMP_NUM_THREADS: local jobs run tiny
 * models, where a second thread gains little, and on a busy machine OpenMP's spinning
 * threads make generation far slower (measured: 16 greedy answers of the harbor target in
 * 4.8 s with one thread, 114 s with two, load average 16 on 2 cores; docs/architecture.md).
 */
export function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'];
  const env: Record<string, string> = { OMP_NUM_THREADS: '1' };
  for (const name of keep) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  return {
    ...env,
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_OFFLINE: '1',
    HF_DATASETS_OFFLINE: '1',
    PYTHONUNBUFFERED: '1',
    TOKENIZERS_PARALLELISM: 'false',
  };
}

export function defaultPython(repoRoot = REPO_ROOT): string {
  if (process.env.REWARDDS_PYTHON) return process.env.REWARDDS_PYTHON;
  const venv = join(repoRoot, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

export const DEFAULT_JOBS_DIR = join(REPO_ROOT, 'jobs');
