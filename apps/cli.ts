/**
 * `tickpath` command: a table of subcommands, each a module under apps/ exporting
 * `main(argv): Promise<number>` and `summary`. Modules load lazily so `tickpath doctor` does not
 * pay for the router or the feed handler.
 */
import * as path from 'path';
import * as fs from 'fs';

export interface Subcommand {
  summary: string;
  main(argv: string[]): Promise<number>;
}

// name -> module file (relative to this directory, without extension)
const kCommands: Record<string, string> = {
  run: 'run',
  doctor: 'doctor',
  config: 'config',
  decode: 'decode',
  replay: 'replay',
  gen: 'gen',
  capture: 'capture',
  monitor: 'monitor',
  book: 'book',
  'venue-sim': 'venue-sim',
  order: 'order',
  journal: 'journal',
  bench: 'bench',
  'rerequest-server': 'rerequest-server',
};

function loadCommand(name: string): Subcommand | undefined {
  const file = kCommands[name];
  if (!file) return undefined;
  const full = path.join(__dirname, `${file}.js`);
  if (!fs.existsSync(full)) return undefined;
  return require(full) as Subcommand;
}

export function usage(): string {
  const lines = ['Usage: tickpath <command> [options]', '', 'Commands:'];
  for (const name of Object.keys(kCommands)) {
    const cmd = loadCommand(name);
    if (cmd) lines.push(`  ${name.padEnd(10)} ${cmd.summary}`);
  }
  lines.push('', 'Run `tickpath <command> --help` for the options of one command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const cmd = loadCommand(name);
  if (!cmd) {
    console.error(`tickpath: unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  return cmd.main(rest);
}
