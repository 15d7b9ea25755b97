import { expect } from 'chai';
import { ConfigError, ConfigReader, formatPath, keysOf } from '../../lib/config/config-reader';
import { TickpathError } from '../../lib/errors';

const kText = [
  'top:',              // 1
  '  name: A',         // 2
  '  count: "7"',      // 3
  '  items:',          // 4
  '    - { id: 1 }',   // 5
  '    - id: x',       // 6
  '      extra: true', // 7
  '  nested:',         // 8
  '    deep: 5',       // 9
  '',
].join('\n');

describe('config reader', () => {
  it('names file:line, path, value, expectation and a fix for a wrong type', () => {
    const r = ConfigReader.parse(kText, 'c.yml');
    const top = r.object('top', (r.root as any).top, ['name', 'count', 'items', 'nested']);
    expect(r.int('top.count', top.count, 1, 10)).to.equal(1);
    expect(r.problems).to.have.length(1);
    expect(r.problems[0]).to.deep.equal({
      code: 'ERR_CONFIG_INVALID', file: 'c.yml', line: 3, path: 'top.count', value: '7', expected: 'an integer from 1 to 10',
      fix: 'set top.count to an integer from 1 to 10', message: 'c.yml:3: top.count is "7", expected an integer from 1 to 10',
    });
  });

  it('reports list items and keys inside them at their own lines, unknown keys with the nearest known one', () => {
    const r = ConfigReader.parse(kText, 'c.yml');
    const items = r.list('top.items', (r.root as any).top.items, 1, 4, 'items');
    items.forEach((v, i) => {
      const o = r.object(['top', 'items', i], v, ['id', 'extras']);
      r.int(['top', 'items', i, 'id'], o.id, 0, 9);
    });
    // In reading order: the mapping (and its unknown key) before the value inside it.
    expect(r.problems.map((p) => [p.code, p.line, p.path, p.fix])).to.deep.equal([
      ['ERR_CONFIG_UNKNOWN_KEY', 7, 'top.items[1].extra', 'did you mean extras?'],
      ['ERR_CONFIG_INVALID', 6, 'top.items[1].id', 'set top.items[1].id to an integer from 0 to 9'],
    ]);
    expect(r.problems.find((p) => p.code === 'ERR_CONFIG_UNKNOWN_KEY')!.message)
      .to.equal('c.yml:7: top.items[1].extra is an unknown key, expected one of id, extras');
  });

  it('a missing value is reported at the line of the nearest key that exists, with an add fix', () => {
    const r = ConfigReader.parse(kText, 'c.yml');
    r.string(['top', 'nested', 'name'], undefined, 'a name');
    expect(r.problems[0]).to.include({ line: 8, message: 'c.yml:8: top.nested.name is missing, expected a name', fix: 'add top.nested.name: a name' });
  });

  it('a mapping that is not one hides the problems below it; every other problem is kept', () => {
    const r = ConfigReader.parse('a: 3\nb: x\n', 'c.yml');
    const a = r.object('a', (r.root as any).a, ['k']);
    r.int('a.k', a.k, 0, 1);
    r.oneOf('b', (r.root as any).b, ['y', 'z']);
    expect(r.problems.map((p) => p.message)).to.deep.equal([
      'c.yml:1: a is 3, expected a mapping with keys k',
      'c.yml:2: b is "x", expected one of y, z',
    ]);
    expect(r.failed('a.k')).to.equal(true);
    expect(r.failed('b')).to.equal(true);
  });

  it('throwIfProblems throws one TickpathError with the first problem, the fix and all problems attached', () => {
    const r = ConfigReader.parse('a: 1\nb: 2\n', 'c.yml');
    r.bool('a', (r.root as any).a);
    r.bool('b', (r.root as any).b);
    let caught: ConfigError | undefined;
    try {
      r.throwIfProblems();
    } catch (e) {
      caught = e as ConfigError;
    }
    expect(caught).to.be.instanceOf(TickpathError);
    expect(caught!.code).to.equal('ERR_CONFIG_INVALID');
    expect(caught!.message).to.equal('c.yml:1: a is 1, expected true or false (and 1 more problem: tickpath config check DIR lists them) (fix: set a to true or false)');
    expect(caught!.problems).to.have.length(2);
  });

  it('YAML syntax errors carry line and column; an unreadable file is ERR_CONFIG_NOT_FOUND', () => {
    const p = ConfigReader.parse('a: 1\nb: [1, 2\n', 'c.yml');
    expect(p.problems[0].code).to.equal('ERR_CONFIG_PARSE');
    expect(p.problems[0].message).to.match(/^c\.yml:\d+: YAML syntax error at column \d+: /);
    expect(p.root).to.equal(undefined);
    const dup = ConfigReader.parse('a: 1\na: 2\n', 'c.yml');
    expect(dup.problems[0].message).to.match(/^c\.yml:2: YAML syntax error at column 1: Map keys must be unique/);
    const missing = ConfigReader.read('/nonexistent/c.yml');
    expect(missing.problems.map((x) => [x.code, x.message])).to.deep.equal([['ERR_CONFIG_NOT_FOUND', '/nonexistent/c.yml: cannot read config file (ENOENT)']]);
    // Nothing else is reported about a file that could not be read.
    missing.int('a', undefined, 0, 1);
    expect(missing.problems).to.have.length(1);
  });

  it('powers of two suggest the next one; the checks accept their fallbacks', () => {
    const r = ConfigReader.parse('ring: 3000\n', 'c.yml');
    expect(r.powerOfTwo('ring', 3000, 64, 1 << 22, 4096)).to.equal(4096);
    expect(r.problems[0].fix).to.equal('set ring to 4096 (the next power of two)');
    expect(r.int('x', undefined, 0, 9, 5)).to.equal(5);
    expect(r.bool('y', null, true)).to.equal(true);
    expect(r.problems).to.have.length(1);
  });

  it('paths: dotted strings and key lists mean the same', () => {
    expect(keysOf('feed.lines[1].port')).to.deep.equal(['feed', 'lines', 1, 'port']);
    expect(keysOf('performance.fusion[1][0]')).to.deep.equal(['performance', 'fusion', 1, 0]);
    expect(formatPath(['routing', 'rules', 'BRK.B', 0])).to.equal('routing.rules.BRK.B[0]');
    expect(formatPath([])).to.equal('(top level)');
  });
});
