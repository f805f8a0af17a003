/**
 * `rewardds select`: Reward-Guided Filtering (or a baseline, or one refinement gate) over
 * local JSONL files, with the same streaming module the filter and gate Lambdas run.
 */
import { createReadStream } from 'node:fs';
import { InputError } from '../../core/jsonl/index.js';
import { parseRunConfig, RunConfigError } from '../../core/config/index.js';
import { filterScores, gateRound, readSeedPrompts, batched } from '../../core/selection/index.js';
import { fileSink, fileSource } from '../file-sinks.js';
import { parseOptions, stringOptions } from '../options.js';
import { exitStatusFor, UsageError } from '../usage-error.js';

const USAGE = `usage: rewardds select --in scores.jsonl --pool pool.jsonl --working working.jsonl [options]

Filters scored candidates (docs/selection.md) into a pool and a working set.

options:
  --in FILE             scores.jsonl: {id, prompt, candidates: [{text, reward, ppl}]}
  --pool FILE           output pool: {id, prompt, response, reward}
  --working FILE        output working set: {id, prompt, chosen, rejected, reward}
  --method M            reward (default) | ppl | none | rouge-l
  --alpha A             weight of the reward rank in the fused rank (default 0.5)
  --keep-fraction F     share of queries kept in the pool (default 0.125)
  --seed S              seed of the none baseline's random pool (default 0)
  --seeds FILE          public seed prompts {id, prompt} for rouge-l

refinement gate (round r ≥ 1) instead of filtering:
  --round R             the round; --in then holds round R's scores
  --pool-in FILE        pool of round R−1
  --working-in FILE     working set of round R−1

Outputs list queries in input order and are written whole or not at all.`;

// Grouped as the usage lists them: the files, the filter, the refinement gate.
const OPTIONS = {
  ...stringOptions('in', 'pool', 'working'),
  ...stringOptions('method', 'alpha', 'keep-fraction', 'seed', 'seeds'),
  ...stringOptions('round', 'pool-in', 'working-in'),
};

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOptions('select', USAGE, argv, OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;

  try {
    const required = (name: 'in' | 'pool' | 'working') => {
      const value = values[name];
      if (!value) throw new UsageError(`--${name} is required`);
      return value;
    };
    const scoresPath = required('in');
    const poolPath = required('pool');
    const workingPath = required('working');
    const number = (name: 'alpha' | 'keep-fraction' | 'seed' | 'round') => {
      const raw = values[name];
      if (raw === undefined) return undefined;
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number`);
      return value;
    };
    // The run config's schema checks ranges and fills defaults, as it does for a run.
    const config = parseRunConfig(
      {
        seed: number('seed'),
        filter: { method: values.method, alpha: number('alpha'), keepFraction: number('keep-fraction') },
      },
      'command line',
    );
    const { method, alpha, keepFraction } = config.filter;
    const seedPrompts = values.seeds ? await readSeedPrompts(fileSource(values.seeds)) : undefined;
    if (values.seeds && method !== 'rouge-l')
      console.error('rewardds select: --seeds is used by --method rouge-l only; ignored');

    const round = number('round');
    let summary: object;
    if (round === undefined) {
      if (values['pool-in'] || values['working-in']) throw new UsageError('--pool-in and --working-in need --round');
      summary = await filterScores(
        {
          scores: fileSource(scoresPath),
          working: batched(fileSink(workingPath)),
          reopenWorking: async () => createReadStream(workingPath, { highWaterMark: 1 << 20 }),
          pool: batched(fileSink(poolPath)),
        },
        { method, alpha, keepFraction, seed: config.seed, seedPrompts },
      );
    } else {
      if (!Number.isInteger(round) || round < 1)
        throw new UsageError('--round must be an integer ≥ 1 (round 0 is the filter)');
      const poolIn = values['pool-in'];
      const workingIn = values['working-in'];
      if (!poolIn || !workingIn) throw new UsageError('--round needs --pool-in and --working-in (round R−1)');
      summary = {
        round,
        ...(await gateRound(
          {
            scores: fileSource(scoresPath),
            poolIn: fileSource(poolIn),
            workingIn: fileSource(workingIn),
            pool: batched(fileSink(poolPath)),
            working: batched(fileSink(workingPath)),
          },
          { method, alpha, seedPrompts },
        )),
      };
    }
    console.log(JSON.stringify(summary, null, 2));
    return 0;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      console.error(`rewardds select: ${(error as Error).message}`);
      return 1;
    }
    return exitStatusFor('select', error, USAGE, [InputError, RunConfigError]);
  }
}
