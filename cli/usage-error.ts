/** How every `rewardds` command refuses a command line it cannot run (exit status 2). */

/** A wrong or missing option or argument, found after parsing; answered with the usage text. */
export class UsageError extends Error {}

/** Prints what is wrong with the command line and the command's usage; returns the exit status, 2. */
export function usageError(command: string, problem: Error | string, usage: string): number {
  console.error(`rewardds ${command}: ${typeof problem === 'string' ? problem : problem.message}\n\n${usage}`);
  return 2;
}
