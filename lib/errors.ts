/**
 * The one error class every tickpath layer throws across an API boundary.
 *
 * `code` is stable (tests and callers switch on it); `message` names the cause; `fix` says what to
 * run or change. Native errors arrive as a negative errno plus a message and are wrapped here once,
 * in lib/binding/, so the C++ never needs to know about JavaScript error types.
 */
export class TickpathError extends Error {
  readonly code: string;
  readonly fix: string | undefined;
  readonly errno: number | undefined;

  constructor(code: string, message: string, fix?: string, errno?: number) {
    super(fix ? `${message} (fix: ${fix})` : message);
    this.name = 'TickpathError';
    this.code = code;
    this.fix = fix;
    this.errno = errno;
  }
}

/** Option validation failure: names the option, the value given and what was expected. */
export function invalidOption(where: string, name: string, value: unknown, expected: string): TickpathError {
  return new TickpathError(
    'ERR_INVALID_OPTION',
    `${where}: option '${name}' is ${JSON.stringify(value)}, expected ${expected}`,
  );
}
