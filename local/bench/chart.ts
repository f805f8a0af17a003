/** The bench's chart: answer accuracy vs ε per method and DP-SFT (last round), with the base and non-private lines, drawn by the report's line chart. */
import { lineChart } from '../../functions/report/charts/line-chart.js';
import type { ReferenceRecord, ResultRow } from './bookkeeping.js';
import { cellGrid, meanStd, referencesForRows } from './table.js';

export function accuracyChart(rows: ResultRow[], references: ReferenceRecord[]): string {
  const lastRound = rows.length ? Math.max(...rows.map((r) => r.round)) : 0;
  const { epsilons, keys, values } = cellGrid(
    rows.filter((r) => r.round === lastRound),
    'answerAccuracy',
  );
  const series = keys.map((k, i) => ({ name: k.method, values: values[i]!.map((m) => m?.mean ?? null) }));
  for (const [kind, name] of [
    ['base', 'base target'],
    ['non-private', 'non-private (no DP)'],
  ] as const) {
    const m = meanStd(
      referencesForRows(references, rows)
        .filter((r) => r.kind === kind)
        .map((r) => r.row?.answerAccuracy)
        .filter((v): v is number => typeof v === 'number'),
    );
    if (m) series.push({ name, values: epsilons.map(() => m.mean) });
  }
  // DP-SFT of the target spends each ε on the evaluated model: one point per ε, like the methods.
  const dpSft = epsilons.map(
    (epsilon) =>
      meanStd(
        referencesForRows(references, rows)
          .filter((r) => r.kind === 'dp-sft' && r.epsilon === epsilon)
          .map((r) => r.row?.answerAccuracy)
          .filter((v): v is number => typeof v === 'number'),
      )?.mean ?? null,
  );
  if (dpSft.some((v) => v !== null)) series.push({ name: 'DP-SFT of the target', values: dpSft });
  return lineChart({
    id: 'bench-accuracy',
    title: `Answer accuracy vs ε (round ${lastRound})`,
    description:
      'Mean answer accuracy over seeds of each filter method and of DP-SFT of the target at each privacy budget, with the base target and the non-private upper bound as flat lines.',
    xs: epsilons,
    xTicks: epsilons,
    series,
    xLabel: 'ε',
    yLabel: 'answer accuracy',
    width: 560,
    height: 320,
  });
}
