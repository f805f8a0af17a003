/**
 * How every `rewardds` command reads its options (node:util parseArgs): strictly, so that an
 * unknown option is a usage error, with `-h, --help` added, and the two kinds of option the
 * commands have most, named once.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parseCommandLine } from './usage-error.js';

/** `--name VALUE` options, read as strings: each command checks its own values. */
export function stringOptions<const N extends string>(...names: N[]): Record<N, { type: 'string' }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as Record<N, { type: 'string' }>;
}

/** `--name` switches, false unless given. */
export function flagOptions<const N extends string>(...names: N[]): Record<N, { type: 'boolean'; default: false }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'boolean', default: false }])) as Record<
    N,
    { type: 'boolean'; default: false }
  >;
}

type Options = NonNullable<ParseArgsConfig['options']>;

const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

/**
 * `argv` parsed against `options` and --help, or the exit status when the command has nothing
 * more to do (parseCommandLine: 0 after --help, 2 after a refused command line). Positional
 * arguments are refused unless `positionals`.
 */
export function parseOptions<const O extends Options>(
  command: string,
  usage: string,
  argv: string[],
  options: O,
  positionals = false,
) {
  return parseCommandLine(command, usage, () =>
    parseArgs({ args: argv, strict: true, allowPositionals: positionals, options: { ...options, ...HELP_OPTION } }),
  );
}
