/**
 * How long the state machine waits before it checks a job again. Every check costs about
 * nine history events (Wait, the describe-job task, the Choice), and an execution may hold
 * 25,000: a fixed 60-s poll spends ~13,000 on one 24-h job. Waiting as long as the job has
 * already run (30 s doubling) finds a short job quickly; the cap, a quarter of the job's
 * own time limit (never under 15 min), keeps a job at its limit to about 20 checks.
 */
export const FIRST_POLL_SECONDS = 30;
export const MIN_POLL_CAP_SECONDS = 15 * 60;

/** Seconds to wait after a check `elapsedSeconds` after the job was created; `limitSeconds` is the job's stopping limit. */
export function nextPollSeconds(elapsedSeconds: number, limitSeconds: number | undefined): number {
  const cap = Math.max(MIN_POLL_CAP_SECONDS, Math.floor((limitSeconds ?? 0) / 4));
  return Math.min(cap, Math.max(FIRST_POLL_SECONDS, Math.round(elapsedSeconds)));
}
