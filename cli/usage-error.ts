/** How every `rewardds` command refuses a command line it cannot run (exit status 2). */

/** A wrong or missing option or argument, found after parsing; answered with the usage text. */
export class UsageError extends Error {}

/** Prints what is wrong with the command line and the command's usage; returns the exit status, 2. */
export function usageError(command: string, problem: Error | string, usage: string): number {
  console.error(`rewardds ${command}: ${typeof problem === 'string' ? problem : problem.message}\n\n${usage}`);
  return 2;
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
