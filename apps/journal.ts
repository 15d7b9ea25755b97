/**
 * `tickpath journal FILE`: print every order an order journal holds (one JSON line each) and a
 * summary naming any damaged slot by byte offset and cause. The logic lives in
 * lib/tools/journal-report.ts.
 *
 * Exit codes: 0 a clean journal, 1 damage found or the file cannot be read, 2 bad usage.
 */
import { printJournal } from '../lib/tools/journal-report';

export const summary = 'Print every order in an order journal as JSON lines, with a summary and any damage';

const kUsage = `Usage: tickpath journal FILE

Prints one JSON line per order the journal holds (venue, kind parent/child, clOrdId (the OUCH token
or FIX ClOrdID of a child), parent, side, symbol, qty, price (Price(4)), filled, cancelled, state,
and reason when the journal gives one: DONE_FOR_DAY for an order its venue's session ended with,
a reject reason such as SESSION_CLOSED), then a summary: counts per state, positions, venue
sequence numbers and sessions, orders done for day, and every damaged slot (byte offset and cause).
The file is only read. Exit 0 clean, 1 damaged or unreadable, 2 bad usage.`;

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { console.log(kUsage); return 0; }
  if (argv.length !== 1 || argv[0].startsWith('-')) { console.error(`tickpath journal: expected one journal FILE\n\n${kUsage}`); return 2; }
  // A reader that stops early (| head) is not an error.
  process.stdout.on('error', () => undefined);
  try {
    const s = printJournal(argv[0], (line) => process.stdout.write(`${line}\n`));
    for (const d of s.damaged) console.error(`tickpath journal: ${argv[0]}: damaged slot at byte ${d.offset} (${d.cause})`);
    if (s.torn_records > 0) console.error(`tickpath journal: ${argv[0]}: ${s.torn_records} torn slot(s) after the last record`);
    return s.damaged.length === 0 ? 0 : 1;
  } catch (err) {
    console.error(`tickpath journal: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => { console.error(e); process.exitCode = 1; });
}
