/** The progress line printed after each cell: how far, how long it took, and the ETA from the mean cell time of this invocation. */

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function progressLine(o: {
  done: number;
  total: number;
  cell: string;
  status: string;
  seconds: number;
  /** Wall seconds of the cells run so far in this invocation (resumed ones excluded). */
  cellSeconds: number[];
  /** Cells that run at once (default 1). */
  workers?: number;
}): string {
  const left = o.total - o.done;
  const mean = o.cellSeconds.length ? o.cellSeconds.reduce((a, b) => a + b, 0) / o.cellSeconds.length : null;
  const at = Math.min(o.workers ?? 1, Math.max(left, 1));
  const eta = left === 0 ? 'done' : mean === null ? 'ETA unknown' : `ETA ${formatDuration((mean * left) / at)}`;
  return `[${o.done}/${o.total}] ${o.cell} ${o.status} in ${formatDuration(o.seconds)}; ${eta}`;
}
