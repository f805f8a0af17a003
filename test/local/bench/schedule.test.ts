import { describe, expect, it } from 'vitest';
import { type BenchCell, expandCells } from '../../../local/bench/grid.js';
import { nextCell, type PrefixState, prefixOf, runCells } from '../../../local/bench/schedule.js';

const grid = (seeds: number[], epsilons = [8]) =>
  expandCells({ methods: ['reward', 'ppl', 'none'], epsilons, seeds, rounds: 1 });

/** A controllable cell run: the test decides when each cell passes its prefix and when it ends. */
function harness() {
  const log: string[] = [];
  const live = new Map<string, { pass: () => void; end: (error?: Error) => void }>();
  const run = (cell: BenchCell, prefixPassed: () => void) =>
    new Promise<void>((resolve, reject) => {
      log.push(`start ${cell.id}`);
      live.set(cell.id, {
        pass: prefixPassed,
        end: (error) => {
          log.push(`end ${cell.id}`);
          live.delete(cell.id);
          if (error) reject(error);
          else resolve();
        },
      });
    });
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { log, live, run, settle };
}

describe('nextCell', () => {
  const cells = grid([1, 2]);
  it('starts the first cell of a prefix nobody leads, and waits while its leader has not passed it', () => {
    const prefixes: PrefixState = new Map();
    expect(nextCell(cells, prefixes)?.id).toBe('reward-eps8-seed1');
    prefixes.set('eps8-seed1', 'leading');
    // seed 1's other cells wait; seed 2 gets a leader of its own
    expect(nextCell(cells.slice(1), prefixes)?.id).toBe('reward-eps8-seed2');
    prefixes.set('eps8-seed2', 'leading');
    expect(
      nextCell(
        cells.slice(1).filter((c) => c.seed === 1),
        prefixes,
      ),
    ).toBeUndefined();
  });

  it('prefers a cell whose prefix is passed over leading a new one', () => {
    const prefixes: PrefixState = new Map([['eps8-seed2', 'passed']]);
    expect(nextCell(cells, prefixes)?.id).toBe('reward-eps8-seed2');
    expect(prefixOf({ epsilon: 4, seed: 3 })).toBe('eps4-seed3');
  });
});

describe('runCells', () => {
  it('holds the cells of a prefix until their leader passes it, then runs them two at a time', async () => {
    const h = harness();
    const done = runCells(grid([1]), 2, h.run);
    await h.settle();
    expect(h.log).toEqual(['start reward-eps8-seed1']); // a free worker, but nothing may start yet
    h.live.get('reward-eps8-seed1')!.pass();
    await h.settle();
    expect(h.log).toEqual(['start reward-eps8-seed1', 'start ppl-eps8-seed1']);
    h.live.get('ppl-eps8-seed1')!.end();
    await h.settle();
    expect(h.log.at(-1)).toBe('start none-eps8-seed1');
    h.live.get('reward-eps8-seed1')!.end();
    h.live.get('none-eps8-seed1')!.end();
    await done;
    expect(h.log.filter((l) => l.startsWith('start'))).toHaveLength(3);
  });

  it('gives the lead to the next cell of the prefix when the leader ends without passing it', async () => {
    const h = harness();
    const done = runCells(grid([1]), 3, h.run);
    await h.settle();
    h.live.get('reward-eps8-seed1')!.end(new Error('DP training failed'));
    await h.settle();
    expect(h.log).toEqual(['start reward-eps8-seed1', 'end reward-eps8-seed1', 'start ppl-eps8-seed1']);
    h.live.get('ppl-eps8-seed1')!.pass();
    await h.settle();
    h.live.get('ppl-eps8-seed1')!.end();
    h.live.get('none-eps8-seed1')!.end();
    await expect(done).rejects.toThrow('DP training failed'); // every cell ran; the first error is reported
    expect(h.log.filter((l) => l.startsWith('start'))).toHaveLength(3);
  });

  it('leads two prefixes at once and never runs more cells than workers', async () => {
    const h = harness();
    let peak = 0;
    const counted = (cell: BenchCell, pass: () => void) => {
      peak = Math.max(peak, h.live.size + 1);
      return h.run(cell, pass);
    };
    const done = runCells(grid([1, 2]), 2, counted);
    await h.settle();
    expect([...h.live.keys()]).toEqual(['reward-eps8-seed1', 'reward-eps8-seed2']);
    for (const id of ['reward-eps8-seed1', 'reward-eps8-seed2']) h.live.get(id)!.pass();
    while (h.live.size) {
      h.live.values().next().value!.end();
      await h.settle();
    }
    await done;
    expect(peak).toBe(2);
    expect(h.log.filter((l) => l.startsWith('start'))).toHaveLength(6);
  });

  it('refuses a worker count below one', async () => {
    await expect(runCells(grid([1]), 0, async () => undefined)).rejects.toThrow('workers must be an integer ≥ 1');
  });
});
