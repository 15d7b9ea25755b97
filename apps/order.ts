/**
 * `tickpath order`: send orders through the whole router path to one venue (OUCH 4.2 or FIX
 * 4.2/4.4) and print every event as a JSON line, then a summary line. The logic lives in
 * lib/tools/order-tool.ts so tests can drive it without a child process.
 *
 * Exit codes: 0 nothing rejected, 1 something rejected / unanswered / venue unreachable, 2 bad usage.
 * SIGINT/SIGTERM: no more orders, answers to the ones sent awaited up to a second, log out, summary
 * (after an 'interrupted' event), then the same exit codes; the temporary journal is removed.
 */
import { kOrderUsage, parseOrderArgs, runOrderTool } from '../lib/tools/order-tool';

export const summary = 'Send orders through the router to one venue (OUCH/FIX) and print each event as JSON';

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { console.log(kOrderUsage); return 0; }
  const opts = parseOrderArgs(argv);
  if (typeof opts === 'string') { console.error(`tickpath order: ${opts}\n\n${kOrderUsage}`); return 2; }
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => abort.abort(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that goes away (`tickpath order ... | head -3`) must not abandon orders in flight: the
  // EPIPE on stdout was an unhandled 'error' that killed the process mid-run. Now printing stops and
  // the run finishes as it would (answers awaited, logout, journal closed), with the same exit code.
  let stdoutOpen = true;
  const onStdoutError = (err: NodeJS.ErrnoException): void => { if (err.code === 'EPIPE') stdoutOpen = false; else throw err; };
  process.stdout.on('error', onStdoutError);
  try {
    const s = await runOrderTool({ ...opts, signal: abort.signal }, (e) => { if (stdoutOpen) process.stdout.write(`${JSON.stringify(e)}\n`); });
    return s.rejected === 0 && s.unanswered === 0 ? 0 : 1;
  } catch (err) {
    const e = err as Error & { code?: string };
    console.error(`tickpath order: ${e.message}${e.code ? ` [${e.code}]` : ''}`);
    return e.code === 'ERR_INVALID_OPTION' ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stdout.off('error', onStdoutError);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => { console.error(e); process.exitCode = 1; });
}
