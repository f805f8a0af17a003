/**
 * Benchmark of the selection step on a million scored candidates: `rewardds select`
 * (streaming) against a load-everything implementation (bench/select-baseline.ts), each
 * in its own child process under /usr/bin/time -v for wall time and peak RSS. Both must
 * write byte-identical outputs, which the bench checks.
 *
 *   npx tsx bench/select.ts [--queries 166667] [--candidates 6] [--regenerate] [--skip-baseline]
 *
 * The scores file goes to bench/out/ (gitignored) and is reused while its parameters match.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { mulberry32 } from '../core/selection/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'bench', 'out');

const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: '166667' },
    candidates: { type: 'string', default: '6' },
    regenerate: { type: 'boolean', default: false },
    'skip-baseline': { type: 'boolean', default: false },
  },
});
const QUERIES = Number(values.queries);
const CANDIDATES = Number(values.candidates);

// Word list for synthetic answers: clinical and financial vocabulary, some punctuation and
// characters that JSON must escape. Non-ASCII is added per answer at the datasets' rate.
/** 2.5–6.6 % of the medical and financial QA answers hold a non-ASCII character. */
const NON_ASCII_RATE = 0.05;
const NON_ASCII = ['naïve', 'café', '—', '“risk”', '°C', 'µg', '€'];

const WORDS = (
  'the patient should take dose daily mg tablet with food if symptoms persist consult physician blood pressure ' +
  'hypertension diabetes insulin glucose level risk factor treatment therapy side effects include nausea headache ' +
  'dizziness rash fever infection antibiotic course complete prescribed interest rate loan mortgage portfolio equity ' +
  'bond yield inflation tax deduction retirement account dividend capital gains liquidity volatility hedge fund ' +
  'analysis recommended however, therefore; because: "quoted" 10% 2.5 (approx.) e.g. i.e. '
).split(' ');

/** ~2 MB of pseudo-text to slice answers from, so generating 800 MB stays quick. */
function corpus(random: () => number): string {
  const parts: string[] = [];
  let size = 0;
  while (size < 2_000_000) {
    const word = random() < 0.01 ? '\n' : WORDS[Math.floor(random() * WORDS.length)]!;
    parts.push(word);
    size += word.length + 1;
  }
  return parts.join(' ');
}

/** Log-normal lengths, median ≈ 600 characters, as in the medical and financial QA answers (mean 650–1000). */
function length(random: () => number, median: number, min: number, max: number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.max(min, Math.min(max, Math.round(median * Math.exp(0.6 * normal))));
}

async function generate(path: string): Promise<void> {
  const random = mulberry32(20260101);
  const text = corpus(random);
  const slice = (median: number, min: number, max: number) => {
    const n = length(random, median, min, max);
    const at = Math.floor(random() * (text.length - n));
    return text.slice(at, at + n);
  };
  const out = createWriteStream(path);
  let buffer = '';
  for (let i = 0; i < QUERIES; i += 1) {
    const candidates = Array.from({ length: CANDIDATES }, () => ({
      text:
        random() < NON_ASCII_RATE
          ? `${slice(300, 10, 1200)} ${NON_ASCII[Math.floor(random() * NON_ASCII.length)]} ${slice(300, 10, 1200)}`
          : slice(600, 20, 2400),
      reward: (random() - 0.5) * 6,
      ppl: 1 + -Math.log(1 - random()) * 8,
    }));
    const query = { id: `q-${String(i).padStart(6, '0')}`, prompt: slice(300, 20, 1500), candidates };
    buffer += `${JSON.stringify(query)}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}

interface Measured {
  wallSeconds: number;
  /** user + system CPU seconds: on a shared machine wall time also counts waiting for a core. */
  cpuSeconds: number | null;
  maxRssMiB: number | null;
  exitCode: number | null;
}

/** Runs a command under /usr/bin/time -v, returning wall time and peak RSS of the child. */
async function measure(command: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  const timeAvailable = existsSync('/usr/bin/time');
  const argv = timeAvailable ? ['/usr/bin/time', '-v', ...command] : command;
  const started = process.hrtime.bigint();
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
  const system = /System time \(seconds\): ([\d.]+)/.exec(stderr);
  const cpuSeconds = user && system ? Number(user[1]) + Number(system[1]) : null;
  if (exitCode !== 0) process.stderr.write(`${stderr.split('\n').slice(0, 20).join('\n')}\n`);
  return { wallSeconds, cpuSeconds, maxRssMiB: rss ? Number(rss[1]) / 1024 : null, exitCode };
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const scores = join(OUT, `scores-${QUERIES}x${CANDIDATES}.jsonl`);
  if (values.regenerate || !existsSync(scores)) {
    const t = Date.now();
    await generate(scores);
    console.log(`generated ${scores} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const size = (await stat(scores)).size;
  console.log(
    `input: ${QUERIES} queries × ${CANDIDATES} = ${QUERIES * CANDIDATES} candidates, ${(size / 2 ** 20).toFixed(0)} MiB`,
  );

  const loadBefore = loadavg();
  const streamingOut = { pool: join(OUT, 'pool-streaming.jsonl'), working: join(OUT, 'working-streaming.jsonl') };
  const streaming = await measure([
    process.execPath,
    join(ROOT, 'bin', 'rewardds.mjs'),
    'select',
    '--in',
    scores,
    '--pool',
    streamingOut.pool,
    '--working',
    streamingOut.working,
  ]);
  const rows: Record<string, Measured> = { streaming };

  // The same command bundled by esbuild, as the Lambdas ship: no TypeScript loader at start-up.
  const bundle = join(OUT, 'rewardds-bundle.mjs');
  await build({
    entryPoints: [join(ROOT, 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundle,
    logLevel: 'warning',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  const bundledOut = { pool: join(OUT, 'pool-bundled.jsonl'), working: join(OUT, 'working-bundled.jsonl') };
  rows.streamingBundled = await measure([
    process.execPath,
    bundle,
    'select',
    '--in',
    scores,
    '--pool',
    bundledOut.pool,
    '--working',
    bundledOut.working,
  ]);
  if (streaming.exitCode === 0 && rows.streamingBundled.exitCode === 0) {
    for (const kind of ['pool', 'working'] as const) {
      if (!(await readFile(streamingOut[kind])).equals(await readFile(bundledOut[kind]))) {
        console.log(`${kind}: the bundled command wrote other bytes`);
        process.exitCode = 1;
      }
    }
  }

  if (!values['skip-baseline']) {
    const baselineOut = { pool: join(OUT, 'pool-baseline.jsonl'), working: join(OUT, 'working-baseline.jsonl') };
    // The baseline needs a heap several times the file; give it room so that it finishes.
    rows.loadEverything = await measure([
      process.execPath,
      '--max-old-space-size=16384',
      '--import',
      'tsx',
      join(ROOT, 'bench', 'select-baseline.ts'),
      '--in',
      scores,
      '--pool',
      baselineOut.pool,
      '--working',
      baselineOut.working,
    ]);
    if (rows.loadEverything.exitCode === 0 && streaming.exitCode === 0) {
      for (const kind of ['pool', 'working'] as const) {
        const same = (await readFile(streamingOut[kind])).equals(await readFile(baselineOut[kind]));
        console.log(`${kind}: streaming and load-everything outputs ${same ? 'are byte-identical' : 'DIFFER'}`);
        if (!same) process.exitCode = 1;
      }
    }
  }

  console.log(
    `\nload average before: ${loadBefore.map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs; after: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log('\n| implementation | wall s | CPU s (user+sys) | peak RSS MiB |\n|---|---:|---:|---:|');
  for (const [name, m] of Object.entries(rows)) {
    console.log(
      `| ${name} | ${m.wallSeconds.toFixed(2)} | ${m.cpuSeconds?.toFixed(2) ?? 'n/a'} | ${m.maxRssMiB?.toFixed(0) ?? 'n/a'} |`,
    );
  }
  const base = rows.loadEverything;
  if (base?.maxRssMiB && streaming.maxRssMiB) {
    console.log(
      `\nload-everything / streaming: wall ×${(base.wallSeconds / streaming.wallSeconds).toFixed(2)}, ` +
        (base.cpuSeconds && streaming.cpuSeconds
          ? `CPU ×${(base.cpuSeconds / streaming.cpuSeconds).toFixed(2)}, `
          : '') +
        `peak RSS ×${(base.maxRssMiB / streaming.maxRssMiB).toFixed(1)}`,
    );
  }
  for (const name of ['streaming', 'streamingBundled']) {
    const m = rows[name]!;
    const goal = m.exitCode === 0 && m.wallSeconds <= 10 && (m.maxRssMiB ?? Infinity) <= 512;
    console.log(`goal for ${name} (≤ 10 s and ≤ 512 MiB): ${goal ? 'met' : 'NOT met'}`);
  }
  await writeFile(
    join(OUT, 'select-results.json'),
    JSON.stringify(
      { queries: QUERIES, candidates: CANDIDATES, inputBytes: size, node: process.version, loadBefore, rows },
      null,
      2,
    ),
  );
  if (streaming.exitCode !== 0 || rows.streamingBundled.exitCode !== 0) process.exitCode = 1;
}

await main();
