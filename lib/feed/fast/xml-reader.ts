/**
 * The small XML reader the FAST template loader needs: elements, attributes, comments, processing
 * instructions, CDATA and the five predefined entities plus numeric character references. Namespace
 * prefixes are kept in `name` and stripped in `localName` (FAST templates mix the td and scp
 * namespaces, e.g. `scp:reset`). Text content is ignored: FAST template definitions carry everything in
 * attributes. Not a validating parser; it throws FastTemplateError with the line of the first thing it
 * cannot read. Runs once at start-up, so it allocates freely.
 */

export class FastTemplateError extends Error {
  readonly code = 'ERR_FAST_TEMPLATE';
  constructor(message: string) {
    super(message);
    this.name = 'FastTemplateError';
  }
}

export interface XmlElement {
  name: string;
  localName: string;
  /** Attributes by their full name and by local name (a prefixed name wins only if no unprefixed one). */
  attributes: Record<string, string>;
  children: XmlElement[];
  line: number;
}

function localOf(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

function decodeEntities(s: string, line: number): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);?/g, (m, e: string) => {
    if (!m.endsWith(';')) throw new FastTemplateError(`XML line ${line}: unterminated entity ${m}`);
    switch (e) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

/** Parse a document; returns its root element. */
export function parseXml(text: string): XmlElement {
  let i = 0;
  let line = 1;
  const n = text.length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const advanceTo = (j: number): void => {
    for (let k = i; k < j; k++) if (text.charCodeAt(k) === 10) line++;
    i = j;
  };
  const fail = (what: string): never => { throw new FastTemplateError(`XML line ${line}: ${what}`); };
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) { advanceTo(n); break; }
    advanceTo(lt);
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      advanceTo(end + 3);
    } else if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) fail('unterminated processing instruction');
      advanceTo(end + 2);
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i);
      if (end < 0) fail('unterminated CDATA');
      advanceTo(end + 3);
    } else if (text.startsWith('<!', i)) {
      const end = text.indexOf('>', i);
      if (end < 0) fail('unterminated declaration');
      advanceTo(end + 1);
    } else if (text.startsWith('</', i)) {
      const end = text.indexOf('>', i);
      if (end < 0) fail('unterminated end tag');
      const name = text.slice(i + 2, end).trim();
      const open = stack.pop();
      if (open === undefined || open.name !== name) fail(`</${name}> does not close <${open?.name ?? '(nothing)'}>`);
      advanceTo(end + 1);
    } else {
      const startLine = line;
      let j = i + 1;
      while (j < n && !/[\s/>]/.test(text[j])) j++;
      const name = text.slice(i + 1, j);
      if (name.length === 0) fail('empty element name');
      const el: XmlElement = { name, localName: localOf(name), attributes: {}, children: [], line: startLine };
      const prefixed: [string, string][] = [];
      for (;;) {
        while (j < n && /\s/.test(text[j])) { if (text.charCodeAt(j) === 10) line++; j++; }
        if (j >= n) fail(`unterminated <${name}>`);
        if (text[j] === '>' || text.startsWith('/>', j)) break;
        let k = j;
        while (k < n && !/[\s=/>]/.test(text[k])) k++;
        const attr = text.slice(j, k);
        while (k < n && /\s/.test(text[k])) k++;
        if (text[k] !== '=') fail(`attribute ${attr} of <${name}> has no value`);
        k++;
        while (k < n && /\s/.test(text[k])) k++;
        const q = text[k];
        if (q !== '"' && q !== "'") fail(`attribute ${attr} of <${name}> is not quoted`);
        const end = text.indexOf(q, k + 1);
        if (end < 0) fail(`attribute ${attr} of <${name}> is not closed`);
        const value = decodeEntities(text.slice(k + 1, end), line);
        el.attributes[attr] = value;
        if (attr.includes(':') && !attr.startsWith('xmlns')) prefixed.push([localOf(attr), value]);
        for (let c = k; c < end; c++) if (text.charCodeAt(c) === 10) line++;
        j = end + 1;
      }
      for (const [local, value] of prefixed) if (!(local in el.attributes)) el.attributes[local] = value;
      const selfClosing = text[j] === '/';
      i = j + (selfClosing ? 2 : 1);
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.children.push(el);
      else if (root === undefined) root = el;
      else fail(`second root element <${name}>`);
      if (!selfClosing) stack.push(el);
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1].name}> is never closed`);
  if (root === undefined) fail('no root element');
  return root!;
}
