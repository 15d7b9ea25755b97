/**
 * Command-line plumbing the subcommands share: strict parsing with the usual --help and bad-usage
 * handling, one usage-error class (exit code 2), and number options validated with messages that
 * name the option, the value and what was expected.
 */
import { parseArgs, type ParseArgsConfig } from 'util';

/** Bad usage: the subcommand prints the message and exits 2. */
export class UsageError extends Error {}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends OptionsConfig, P extends boolean> =
  ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: P }>>;

/**
 * `parseArgs` in strict mode for `tickpath <command>`. An unknown or malformed option prints the
 * error and `help` to stderr and yields exit code 2; --help prints `help` and yields 0. A number
 * means: return it from main.
 */
export function parseCommandLine<O extends OptionsConfig, P extends boolean = false>(
  command: string, help: string, argv: string[], options: O, allowPositionals?: P,
): Parsed<O, P> | number {
  let parsed: Parsed<O, P>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: (allowPositionals ?? false) as P });
  } catch (err) {
    console.error(`tickpath ${command}: ${usageMessage(err as Error & { code?: string })}\n\n${help}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help);
    return 0;
  }
  return parsed;
}

/** An integer option from min to max, or undefined when absent; UsageError otherwise. */
export function intOption(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new UsageError(`option --${name} is ${JSON.stringify(v)}, expected an integer from ${min} to ${max}`);
  return n;
}

/**
 * parseArgs' own words, except where they send the reader the wrong way: `--seed -1` is reported
 * as an "ambiguous" argument; say instead that the value is missing and how to pass one that
 * starts with a dash.
 */
export function usageMessage(err: Error & { code?: string }): string {
  const m = /^Option '(-\w, )?(--[\w-]+)[^']*' argument is ambiguous/.exec(err.message);
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && m) {
    return `option ${m[2]} is missing its value (a value starting with '-' reads as an option: write ${m[2]}=VALUE to pass it)`;
  }
  return err.message;
}
