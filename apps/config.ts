/** `tickpath config check DIR [--json]`: every problem in the three config files, before anything starts. */
import { parseArgs } from 'util';
import { checkConfigDir, formatCheck } from '../lib/config/check';

export const summary = 'check DIR/feed_config.yml, performance.yml, routing_config.yml: every problem with file:line and the fix';

const kHelp = `Usage: tickpath config check DIR [--json]

Validates DIR/feed_config.yml, performance.yml and routing_config.yml without starting anything:
each file on its own (unknown keys, types, ranges, powers of two), then the rules that span files
or need this machine (the venues rules name exist, each symbol's shares add up to 1, the journal
can be written, the CPUs exist, the DPDK EAL options go together). Prints every problem as
file:line: path is value, expected ..., with the fix on the next line.

  --json   one JSON object: { dir, ok, problems: [{ code, file, line, path, value, expected, fix, message }] }

Exit code: 0 no problems, 1 problems, 2 bad usage.`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    console.error(`tickpath config: ${(err as Error).message}\n\n${kHelp}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(kHelp);
    return 0;
  }
  const [action, dir, ...extra] = positionals;
  if (action !== 'check' || !dir || extra.length > 0) {
    const what = action !== 'check' ? (action ? `unknown action '${action}'` : 'no action') : !dir ? 'no directory' : `unexpected '${extra.join(' ')}'`;
    console.error(`tickpath config: ${what}\n\n${kHelp}`);
    return 2;
  }
  const result = checkConfigDir(dir);
  if (values.json) {
    console.log(JSON.stringify({ dir, ok: result.problems.length === 0, problems: result.problems }, null, 2));
  } else {
    console.log(formatCheck(result));
  }
  return result.problems.length === 0 ? 0 : 1;
}
