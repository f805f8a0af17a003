/**
 * `rewardds <command>`: one entry point for the local tools. Each command lives in
 * cli/commands/<command>.ts and exports `run(argv): Promise<number>` (the exit code).
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: (argv: string[]) => Promise<number> }> }> =
  {
    run: { summary: 'run the whole pipeline (--local) on a JSONL file', load: () => import('./commands/run.js') },
    plan: { summary: 'plan the DP noise for a privacy budget', load: () => import('./commands/plan.js') },
    select: { summary: 're-filter a scores.jsonl file without AWS', load: () => import('./commands/select.js') },
    bench: {
      summary: 'RewardDS against its baselines on a benchmark world (local runs)',
      load: () => import('./commands/bench.js'),
    },
    report: { summary: 're-render report.html from a report.json', load: () => import('./commands/report.js') },
  };

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return [
    'usage: rewardds <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'rewardds <command> --help for its options',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`rewardds: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`rewardds: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
