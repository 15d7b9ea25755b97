import * as fs from 'node:fs';
import * as YAML from 'yaml';
import { TickpathError } from '../errors';

/**
 * Validation helpers shared by the feed and performance loaders. Every failure names the file, the
 * path inside it (`feed.lines[1].port`), the value found and what was expected, so an operator can
 * fix a config without reading code. Codes: ERR_CONFIG_NOT_FOUND, ERR_CONFIG_PARSE,
 * ERR_CONFIG_INVALID (bad or missing value), ERR_CONFIG_UNKNOWN_KEY.
 */
export class ConfigReader {
  constructor(readonly file: string) {}

  /** Reads and parses `file` as YAML (duplicate keys are errors). */
  static readYaml(file: string): { reader: ConfigReader; doc: unknown } {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      throw new TickpathError('ERR_CONFIG_NOT_FOUND', `${file}: cannot read config file (${code})`);
    }
    return ConfigReader.parseYaml(text, file);
  }

  static parseYaml(text: string, file: string): { reader: ConfigReader; doc: unknown } {
    const document = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (document.errors.length > 0) {
      const e = document.errors[0];
      const pos = e.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      throw new TickpathError('ERR_CONFIG_PARSE', `${file}: YAML syntax error${where}: ${firstLine(e.message).replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    return { reader: new ConfigReader(file), doc: document.toJS() };
  }

  invalid(path: string, value: unknown, expected: string): TickpathError {
    return new TickpathError('ERR_CONFIG_INVALID', `${this.file}: ${path} is ${show(value)}, expected ${expected}`);
  }

  /** A mapping with only `known` keys (each value is then checked by its own reader call). */
  object(path: string, value: unknown, known: readonly string[]): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw this.invalid(path, value, `a mapping with keys ${known.join(', ')}`);
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) {
        throw new TickpathError(
          'ERR_CONFIG_UNKNOWN_KEY',
          `${this.file}: ${path}.${key} is not a known option, expected one of ${known.join(', ')}`,
        );
      }
    }
    return obj;
  }

  int(path: string, value: unknown, min: number, max: number, fallback?: number): number {
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      throw this.invalid(path, value, `an integer from ${min} to ${max}`);
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.invalid(path, value, `an integer from ${min} to ${max}`);
    }
    return value;
  }

  optionalInt(path: string, value: unknown, min: number, max: number): number | undefined {
    return value === undefined || value === null ? undefined : this.int(path, value, min, max);
  }

  powerOfTwo(path: string, value: unknown, min: number, max: number, fallback?: number): number {
    const v = value === undefined || value === null ? fallback : value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max || (v & (v - 1)) !== 0) {
      throw this.invalid(path, value, `a power of two from ${min} to ${max}`);
    }
    return v;
  }

  bool(path: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') throw this.invalid(path, value, 'true or false');
    return value;
  }

  string(path: string, value: unknown, expected = 'a non-empty string'): string {
    if (typeof value !== 'string' || value.length === 0) throw this.invalid(path, value, expected);
    return value;
  }

  optionalString(path: string, value: unknown): string | undefined {
    return value === undefined || value === null ? undefined : this.string(path, value);
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[], fallback?: T): T {
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw this.invalid(path, value, `one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  list(path: string, value: unknown, minLength: number, maxLength: number, what: string): unknown[] {
    if (value === undefined || value === null) {
      if (minLength === 0) return [];
    }
    if (!Array.isArray(value) || value.length < minLength || value.length > maxLength) {
      const count = minLength === maxLength ? `${minLength}` : `${minLength} to ${maxLength}`;
      throw this.invalid(path, value, `a list of ${count} ${what}`);
    }
    return value;
  }

  ipv4(path: string, value: unknown): string {
    if (typeof value !== 'string' || !isIpv4(value)) throw this.invalid(path, value, 'an IPv4 address such as 10.0.0.1');
    return value;
  }

  multicastGroup(path: string, value: unknown): string {
    if (typeof value !== 'string' || !isIpv4(value)) {
      throw this.invalid(path, value, 'an IPv4 multicast group from 224.0.0.0 to 239.255.255.255');
    }
    const first = Number(value.split('.')[0]);
    if (first < 224 || first > 239) {
      throw this.invalid(path, value, 'an IPv4 multicast group from 224.0.0.0 to 239.255.255.255');
    }
    return value;
  }
}

export function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function show(value: unknown): string {
  if (value === undefined) return 'missing';
  return JSON.stringify(value);
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
