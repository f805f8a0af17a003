/**
 * The demo pipeline (`make demo`: examples/clinic-qa with examples/tiny.config.json) with
 * the warm job process and with one plain subprocess per job (`--cold`), alternating, each
 * run a fresh `rewardds run --local --json` process. Prints every run, the medians and the
 * cold/warm ratio of the wall time, and each mode's share of time inside job bodies, of the whole
 * command and of the state machine execution alone.
 *
 * Usage: npx tsx bench/warm-vs-cold.ts [--runs 3] [--workdir bench/out/warm-vs-cold]
 *
 * The tiny base models are built once before the first timed run (a fresh clone's first
 * run pays that once, whatever the mode), so no run is charged for them.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildTinyModels } from '../local/bootstrap.js';
import { DEFAULT_JOBS_DIR, defaultPython } from '../local/sagemaker/index.js';
import type { RunTime } from '../local/summary.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(REPO, 'examples', 'clinic-qa');

interface Sample {
  mode: 'warm' | 'cold';
  wallSeconds: number;
  time: RunTime;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One demo run as a user starts it; its wall time is measured from outside the process. */
function runDemo(mode: 'warm' | 'cold', workdir: string): Promise<Sample> {
  const args = [
    join(REPO, 'bin', 'rewardds.mjs'),
    'run',
    '--local',
    join(EXAMPLE, 'train.jsonl'),
    '--test',
    join(EXAMPLE, 'test.jsonl'),
    '--seeds',
    join(EXAMPLE, 'seeds.jsonl'),
    '--config',
    join(REPO, 'examples', 'tiny.config.json'),
    '--workdir',
    workdir,
    '--json',
    ...(mode === 'cold' ? ['--cold'] : []),
  ];
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`the ${mode} run exited with ${code}`));
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { status: string; time: RunTime };
      if (result.status !== 'succeeded') return reject(new Error(`the ${mode} run ${result.status}`));
      resolvePromise({ mode, wallSeconds, time: result.time });
    });
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      workdir: { type: 'string', default: join(REPO, 'bench', 'out', 'warm-vs-cold') },
    },
  });
  const runs = Number(values.runs);
  const workdir = resolve(values.workdir!);
  mkdirSync(workdir, { recursive: true });
  await buildTinyModels(join(workdir, 'models'), { python: defaultPython(), jobsDir: DEFAULT_JOBS_DIR });

  const samples: Sample[] = [];
  for (let i = 0; i < runs; i += 1) {
    // Alternate which mode goes first, so a drift in the machine's load hits both alike.
    for (const mode of i % 2 === 0 ? (['warm', 'cold'] as const) : (['cold', 'warm'] as const)) {
      const sample = await runDemo(mode, workdir);
      samples.push(sample);
      const t = sample.time;
      console.log(
        `run ${i + 1} ${mode.padEnd(4)}  wall ${sample.wallSeconds.toFixed(1)}s  ` +
          `(in-process ${t.wallSeconds.toFixed(1)}s: job bodies ${t.jobBodySeconds.toFixed(1)}s = ` +
          `${Math.round(t.jobBodyShare * 100)} %, overhead ${t.overheadSeconds.toFixed(1)}s; execution ` +
          `${t.execution?.seconds.toFixed(1)}s, ${Math.round((t.execution?.jobBodyShare ?? 0) * 100)} % in bodies)`,
      );
    }
  }
  const of = (mode: 'warm' | 'cold') => samples.filter((s) => s.mode === mode);
  const wall = (mode: 'warm' | 'cold') => median(of(mode).map((s) => s.wallSeconds));
  const share = (mode: 'warm' | 'cold') => median(of(mode).map((s) => s.time.jobBodyShare));
  const executionShare = (mode: 'warm' | 'cold') => median(of(mode).map((s) => s.time.execution?.jobBodyShare ?? 0));
  console.log(`\nmedian of ${runs}: warm ${wall('warm').toFixed(1)}s, cold ${wall('cold').toFixed(1)}s`);
  console.log(`cold / warm wall time: ×${(wall('cold') / wall('warm')).toFixed(2)}`);
  console.log(
    `time inside job bodies: warm ${Math.round(share('warm') * 100)} %, cold ${Math.round(share('cold') * 100)} %`,
  );
  console.log(
    'of the state machine execution alone (no local set-up, no output copy): ' +
      `warm ${Math.round(executionShare('warm') * 100)} %, cold ${Math.round(executionShare('cold') * 100)} %`,
  );
}

await main();
