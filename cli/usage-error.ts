/** How every `rewardds` command refuses a command line it cannot run (exit status 2). */

/** A wrong or missing option or argument, found after parsing; answered with the usage text. */
export class UsageError extends Error {}

/** Prints what is wrong with the command line and the command's usage; returns the exit status, 2. */
export function usageError(command: string, problem: Error | string, usage: string): number {
  console.error(`rewardds ${command}: ${typeof problem === 'string' ? problem : problem.message}\n\n${usage}`);
  return 2;
}

/**
 * The exit status for an error a command's body threw: 2 with the usage for a UsageError, 1 with
 * its message for one of the `expected` kinds (input the user can fix); anything else is a bug
 * and is thrown on.
 */
export function exitStatusFor(
  command: string,
  error: unknown,
  usage: string,
  expected: (abstract new (...args: never[]) => Error)[],
): number {
  if (error instanceof UsageError) return usageError(command, error, usage);
  if (expected.some((kind) => error instanceof kind)) {
    console.error(`rewardds ${command}: ${(error as Error).message}`);
    return 1;
  }
  throw error;
}

/**
 * A command line parsed by `parse`, or the exit status when the command has nothing more to
 * do: 0 after printing the usage for --help, 2 after saying what `parse` refused.
 */
export function parseCommandLine<T extends { values: { help?: boolean } }>(
  command: string,
  usage: string,
  parse: () => T,
): T | number {
  let parsed: T;
  try {
    parsed = parse();
  } catch (error) {
    return usageError(command, error as Error, usage);
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  return parsed;
}
