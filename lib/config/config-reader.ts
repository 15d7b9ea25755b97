import * as fs from 'node:fs';
import { Document, isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { TickpathError } from '../errors';

/**
 * The one reader behind every config loader (feed_config.yml, performance.yml,
 * routing_config.yml). Every problem names the file and line, the path inside the file
 * (`feed.lines[1].port`), the value found, what was expected and the fix.
 *
 * A reader collects problems instead of stopping at the first, so `tickpath config check` can
 * show them all; a failed check returns the value itself when it has the right JavaScript type
 * (otherwise the default or a placeholder) so reading goes on. A path whose mapping or list could
 * not be read is marked broken and nothing below it is reported again. Loaders that must hand
 * back a usable config call `throwIfProblems()` at the end.
 *
 * Stable codes: ERR_CONFIG_NOT_FOUND (cannot read the file), ERR_CONFIG_PARSE (YAML syntax),
 * ERR_CONFIG_UNKNOWN_KEY, ERR_CONFIG_INVALID (a bad, missing or conflicting value).
 */
export type ConfigErrorCode = 'ERR_CONFIG_NOT_FOUND' | 'ERR_CONFIG_PARSE' | 'ERR_CONFIG_UNKNOWN_KEY' | 'ERR_CONFIG_INVALID';

/** A path inside a file: keys and list indices. A dotted string is accepted for fixed paths. */
export type Key = string | number;
export type ConfigPath = string | readonly Key[];

export interface ConfigProblem {
  code: ConfigErrorCode;
  file: string;
  /** 1-based line of the value, or of the nearest enclosing key when the value is missing. */
  line: number | undefined;
  path: string;
  value: unknown;
  expected: string;
  fix: string;
  /** `file:line: path is value, expected ...` (the fix is separate). */
  message: string;
}

/** A config that could not be loaded: the first problem is the message, all of them are attached. */
export class ConfigError extends TickpathError {
  constructor(readonly problems: ConfigProblem[]) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}: tickpath config check DIR lists them)` : '';
    super(first.code, `${first.message}${more}`, first.fix);
    this.name = 'TickpathError';
  }
}

export class ConfigReader {
  readonly problems: ConfigProblem[] = [];
  private readonly broken: string[] = [];
  private readonly failedPaths = new Set<string>();

  private constructor(
    readonly file: string,
    private readonly doc: Document | undefined,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Reads and parses `file`; a missing file or a syntax error is recorded, not thrown. */
  static read(file: string): ConfigReader {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const r = new ConfigReader(file, undefined, new LineCounter());
      const why = e.code === 'EISDIR' ? 'EISDIR: it is a directory' : e.code ?? 'EIO';
      r.record({
        code: 'ERR_CONFIG_NOT_FOUND', file, line: undefined, path: '(file)', value: file,
        expected: 'a readable YAML file',
        fix: e.code === 'ENOENT' ? 'check the directory, or copy the shipped file from configs/' : 'check the file\'s permissions',
        message: `${file}: cannot read config file (${why})`,
      });
      return r;
    }
    return ConfigReader.parse(text, file);
  }

  /** Parses YAML text (duplicate keys are errors); `file` is used in messages and to resolve paths. */
  static parse(text: string, file: string): ConfigReader {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
    const r = new ConfigReader(file, doc.errors.length > 0 ? undefined : doc, lineCounter);
    for (const e of doc.errors) {
      const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      r.record({
        code: 'ERR_CONFIG_PARSE', file, line: pos.line, path: '(syntax)', value: undefined,
        expected: 'valid YAML', fix: 'correct the YAML at that line (indentation, quotes, brackets, a repeated key)',
        message: `${file}:${pos.line}: YAML syntax error at column ${pos.col}: ${firstLine(e.message).replace(/ at line \d+, column \d+:?$/, '')}`,
      });
    }
    return r;
  }

  /** The document as plain JavaScript values; undefined when the file could not be read or parsed. */
  get root(): unknown {
    return this.doc?.toJS();
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  /** True when a problem was recorded at `path` or below it (cross-checks skip such values). */
  failed(path: ConfigPath): boolean {
    const p = formatPath(keysOf(path));
    for (const f of this.failedPaths) if (isUnder(f, p)) return true;
    return this.isBroken(p);
  }

  /** Line of the key of the value at `path` (of the item, in a list), or of the nearest enclosing node that exists. */
  lineOf(path: ConfigPath): number | undefined {
    if (!this.doc) return undefined;
    const keys = keysOf(path);
    for (let n = keys.length; n >= 0; n--) {
      const node = (n === 0 ? this.doc.contents : this.doc.getIn(keys.slice(0, n), true)) as Node | null | undefined;
      if (node === undefined) continue;
      // A mapping's entry is reported at its key: a block value starts on the line after it.
      const parent = n > 0 ? (n === 1 ? this.doc.contents : this.doc.getIn(keys.slice(0, n - 1), true)) : undefined;
      if (isMap(parent)) {
        const pair = parent.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === keys[n - 1]);
        const key = pair?.key as Node | undefined;
        if (key?.range) return this.lineCounter.linePos(key.range[0]).line;
      }
      if (node && node.range) return this.lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  }

  /** Records a bad, missing or conflicting value. `fix` defaults to setting the expected value. */
  problem(path: ConfigPath, value: unknown, expected: string, fix?: string): void {
    const keys = keysOf(path);
    const p = formatPath(keys);
    if (this.isBroken(p)) return;
    this.failedPaths.add(p);
    const shown = value === undefined ? 'missing' : show(value);
    const where = this.where(keys);
    this.record({
      code: 'ERR_CONFIG_INVALID', file: this.file, line: this.lineOf(keys), path: p, value, expected,
      fix: fix ?? (value === undefined ? `add ${p}: ${expected}` : `set ${p} to ${expected}`),
      message: `${where}: ${p} is ${shown}, expected ${expected}`,
    });
  }

  /** Throws the first problem (with all of them attached) when there is any. */
  throwIfProblems(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  /**
   * A mapping; keys not in `known` are recorded as unknown (each value is then read by its own
   * call). `known` as a string describes a mapping whose keys are data (symbols, other sections).
   */
  object(path: ConfigPath, value: unknown, known: readonly string[] | string): Record<string, unknown> {
    const keys = keysOf(path);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(keys, value, typeof known === 'string' ? known : `a mapping with keys ${known.join(', ')}`);
      this.markBroken(keys);
      return {};
    }
    const obj = value as Record<string, unknown>;
    if (typeof known === 'string') return obj;
    for (const key of Object.keys(obj)) {
      if (known.includes(key)) continue;
      const at = [...keys, key];
      const p = formatPath(at);
      if (this.isBroken(p)) continue;
      const near = closest(key, known);
      this.record({
        code: 'ERR_CONFIG_UNKNOWN_KEY', file: this.file, line: this.lineOf(at), path: p, value: obj[key],
        expected: `one of ${known.join(', ')}`,
        fix: near ? `did you mean ${near}?` : 'remove it, or rename it to one of the expected keys',
        message: `${this.where(at)}: ${p} is an unknown key, expected one of ${known.join(', ')}`,
      });
    }
    return obj;
  }

  list(path: ConfigPath, value: unknown, minLength: number, maxLength: number, what: string): unknown[] {
    if ((value === undefined || value === null) && minLength === 0) return [];
    if (!Array.isArray(value) || value.length < minLength || value.length > maxLength) {
      const count = minLength === maxLength ? `${minLength}` : maxLength >= 1 << 30 ? `at least ${minLength}` : `${minLength} to ${maxLength}`;
      this.problem(path, value, `a list of ${count} ${what}`);
      this.markBroken(keysOf(path));
      return Array.isArray(value) ? value : [];
    }
    return value;
  }

  int(path: ConfigPath, value: unknown, min: number, max: number, fallback?: number): number {
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(path, value, `an integer from ${min} to ${max}`);
      return typeof value === 'number' ? value : fallback ?? min;
    }
    return value;
  }

  optionalInt(path: ConfigPath, value: unknown, min: number, max: number): number | undefined {
    return value === undefined || value === null ? undefined : this.int(path, value, min, max);
  }

  /** A number >= min (> min with exclusiveMin). */
  number(path: ConfigPath, value: unknown, min: number, exclusiveMin = false, fallback?: number): number {
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (exclusiveMin && value === min)) {
      this.problem(path, value, `a number ${exclusiveMin ? '>' : '>='} ${min}`);
      return typeof value === 'number' ? value : fallback ?? min;
    }
    return value;
  }

  powerOfTwo(path: ConfigPath, value: unknown, min: number, max: number, fallback?: number): number {
    const v = value === undefined || value === null ? fallback : value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max || (v & (v - 1)) !== 0) {
      const up = typeof v === 'number' && v > 0 && v <= max ? 2 ** Math.ceil(Math.log2(v)) : undefined;
      this.problem(path, value, `a power of two from ${min} to ${max}`, up !== undefined && up >= min ? `set ${formatPath(keysOf(path))} to ${up} (the next power of two)` : undefined);
      return fallback ?? min;
    }
    return v;
  }

  bool(path: ConfigPath, value: unknown, fallback?: boolean): boolean {
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.problem(path, value, 'true or false');
      return fallback ?? false;
    }
    return value;
  }

  /** A non-empty string of at most maxLength characters matching `pattern` when given. */
  string(path: ConfigPath, value: unknown, expected = 'a non-empty string', maxLength = Infinity, pattern?: RegExp): string {
    if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || (pattern && !pattern.test(value))) {
      this.problem(path, value, expected);
      return typeof value === 'string' ? value : '';
    }
    return value;
  }

  optionalString(path: ConfigPath, value: unknown): string | undefined {
    return value === undefined || value === null ? undefined : this.string(path, value);
  }

  oneOf<T extends string>(path: ConfigPath, value: unknown, allowed: readonly T[], fallback?: T, fix?: string): T {
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      const near = typeof value === 'string' ? closest(value, allowed) : undefined;
      this.problem(path, value, `one of ${allowed.join(', ')}`, near ? `did you mean ${near}?` : fix);
      return (typeof value === 'string' ? value : fallback ?? allowed[0]) as T;
    }
    return value as T;
  }

  ipv4(path: ConfigPath, value: unknown): string {
    if (typeof value !== 'string' || !isIpv4(value)) {
      this.problem(path, value, 'an IPv4 address such as 10.0.0.1');
      return typeof value === 'string' ? value : '';
    }
    return value;
  }

  multicastGroup(path: ConfigPath, value: unknown): string {
    const first = typeof value === 'string' && isIpv4(value) ? Number(value.split('.')[0]) : -1;
    if (first < 224 || first > 239) {
      this.problem(path, value, 'an IPv4 multicast group from 224.0.0.0 to 239.255.255.255');
      return typeof value === 'string' ? value : '';
    }
    return value as string;
  }

  private where(keys: readonly Key[]): string {
    const line = this.lineOf(keys);
    return line === undefined ? this.file : `${this.file}:${line}`;
  }

  private record(p: ConfigProblem): void {
    this.problems.push(p);
  }

  private markBroken(keys: readonly Key[]): void {
    this.broken.push(formatPath(keys));
  }

  private isBroken(p: string): boolean {
    if (this.doc === undefined) return true;
    return this.broken.some((b) => isUnder(p, b));
  }
}

/** `feed.lines[1].port` -> ['feed', 'lines', 1, 'port']; arrays pass through. */
export function keysOf(path: ConfigPath): Key[] {
  if (typeof path !== 'string') return [...path];
  if (path === '' || path === '(top level)') return [];
  const keys: Key[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      keys.push(part);
      continue;
    }
    if (m[1]) keys.push(m[1]);
    for (const i of m[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(i[1]));
  }
  return keys;
}

export function formatPath(keys: readonly Key[]): string {
  if (keys.length === 0) return '(top level)';
  let s = '';
  for (const k of keys) s += typeof k === 'number' ? `[${k}]` : s ? `.${k}` : k;
  return s;
}

/** Whether path `p` is `base` or lies below it. */
function isUnder(p: string, base: string): boolean {
  if (base === '(top level)') return true;
  return p === base || p.startsWith(`${base}.`) || p.startsWith(`${base}[`);
}

export function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

/** The known name within edit distance 2 of a misspelt one (allow_truncatd -> allow_truncated). */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
