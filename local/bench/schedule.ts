/**
 * Which cell runs next when the bench runs several at once.
 *
 * Cells with the same ε and seed share everything before filtering (the DP proxies, the
 * pairs, the synthesized and scored candidates): started together, each would train the
 * same proxies. So one cell of such a group leads, and the others wait until the leader has
 * passed that shared prefix; the job cache then hands them its outputs through their own
 * state machine runs.
 */

import type { BenchCell } from './grid.js';

/** The group of cells that share a private prefix. */
export const prefixOf = (cell: Pick<BenchCell, 'epsilon' | 'seed'>) => `eps${cell.epsilon}-seed${cell.seed}`;

/** Where each prefix stands: led by a running cell, or passed (its outputs are in the job cache). */
export type PrefixState = Map<string, 'leading' | 'passed'>;

/**
 * The first waiting cell whose prefix is passed (it reuses the most); otherwise the first
 * whose prefix nobody leads yet (it becomes the leader); otherwise none: wait.
 */
export function nextCell(waiting: readonly BenchCell[], prefixes: PrefixState): BenchCell | undefined {
  return waiting.find((c) => prefixes.get(prefixOf(c)) === 'passed') ?? waiting.find((c) => !prefixes.has(prefixOf(c)));
}

/**
 * Runs `cells` (in order, `workers` at a time). `run` calls `prefixPassed` once the cell has
 * passed the shared prefix; a cell that ends without calling it (failed early) hands the
 * lead to the next cell of its group.
 */
export async function runCells(
  cells: readonly BenchCell[],
  workers: number,
  run: (cell: BenchCell, prefixPassed: () => void) => Promise<void>,
): Promise<void> {
  if (!(Number.isInteger(workers) && workers >= 1)) throw new Error(`workers must be an integer ≥ 1, got ${workers}`);
  const waiting = [...cells];
  const prefixes: PrefixState = new Map();
  const running = new Set<Promise<void>>();
  const errors: unknown[] = [];
  // Set by any change (a prefix passed, a cell ended) so the loop looks again before it sleeps.
  let changed = false;
  let wake: () => void = () => undefined;
  const touch = () => {
    changed = true;
    wake();
  };
  const start = (cell: BenchCell) => {
    const prefix = prefixOf(cell);
    const leads = !prefixes.has(prefix);
    if (leads) prefixes.set(prefix, 'leading');
    const passed = () => {
      if (leads) prefixes.set(prefix, 'passed');
      touch();
    };
    const task: Promise<void> = run(cell, passed)
      .catch((error: unknown) => {
        errors.push(error);
      })
      .finally(() => {
        if (leads && prefixes.get(prefix) === 'leading') prefixes.delete(prefix);
        running.delete(task);
        touch();
      });
    running.add(task);
  };
  while (waiting.length || running.size) {
    changed = false;
    for (let cell = nextCell(waiting, prefixes); cell && running.size < workers; cell = nextCell(waiting, prefixes)) {
      waiting.splice(waiting.indexOf(cell), 1);
      start(cell);
    }
    // With nothing running, no prefix is led, so a waiting cell can always start.
    if (!running.size) throw new Error(`bench scheduler: ${waiting.length} cells waiting and none can start`);
    if (!changed)
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
  }
  if (errors.length) throw errors[0];
}
