/**
 * FAST 1.1 template definitions compiled once at start-up into flat instruction trees that the
 * decoder walks per message (and the encoder mirrors).
 *
 * A venue publishes its templates as XML (FAST 1.1 section 9): `<templates>` of `<template>`s made of
 * integer, decimal, string and byteVector fields with one operator each (constant, default, copy,
 * increment, delta, tail), sequences, groups and template references. Loading resolves everything
 * the decoder would otherwise look up per message: each field gets a slot in its group's block of the
 * decoder's value tape, each operator its dictionary entry (global, template, type or a named
 * dictionary, keyed by name or `key`), each group whether it carries its own presence map, each
 * optional group and each operator whether it takes a presence-map bit (spec table in 6.2), and
 * static template references are inlined into their referrer (sharing its presence map). Initial
 * values are parsed once; string ones live in one constants arena.
 *
 * Definitions the spec calls static errors (an increment on a string, a mandatory constant without
 * a value, a tail on an integer, an unknown static reference, a reference cycle) throw
 * FastTemplateError naming the template and the field: a venue's file is checked when it is loaded,
 * not when its first message arrives. Dictionary entries are keyed by scope, key and value kind
 * (integer, decimal, string): the spec makes a kind mismatch on a shared key a dynamic error (D4);
 * separate entries mean a valid stream decodes the same and an invalid one cannot corrupt another
 * kind's value.
 *
 * Nothing here runs per message. The compiled objects are read-only after loading and may be
 * shared by any number of decoders and encoders (each owns its dictionaries).
 */
import type { FastCompiledBody } from './fast-compiler';
import { FastTemplateError, parseXml, XmlElement } from './xml-reader';

export { FastTemplateError } from './xml-reader';

// Field kinds.
export const kFastUInt32 = 1;
export const kFastInt32 = 2;
export const kFastUInt64 = 3;
export const kFastInt64 = 4;
/** Decimal as one field (exponent then mantissa, one operator). */
export const kFastDecimal = 5;
/** Decimal with individual exponent and mantissa operators (`<exponent>`/`<mantissa>`). */
export const kFastDecimalSplit = 6;
export const kFastAscii = 7;
export const kFastUnicode = 8;
export const kFastByteVector = 9;
export const kFastSequence = 10;
export const kFastGroup = 11;
/** `<templateRef/>` without a name: a nested message segment naming its own template. */
export const kFastDynamicRef = 12;

export const kFastKindNames = ['', 'uInt32', 'int32', 'uInt64', 'int64', 'decimal', 'decimal', 'string', 'string', 'byteVector', 'sequence', 'group', 'templateRef'];

// Operators.
export const kFastOpNone = 0;
export const kFastOpConstant = 1;
export const kFastOpDefault = 2;
export const kFastOpCopy = 3;
export const kFastOpIncrement = 4;
export const kFastOpDelta = 5;
export const kFastOpTail = 6;

export const kFastOpNames = ['none', 'constant', 'default', 'copy', 'increment', 'delta', 'tail'];

/** The SCP 1.1 Reset message's template id: dictionaries return to their initial state. */
export const kFastResetTemplateId = 120;

export function isFastInteger(kind: number): boolean {
  return kind >= kFastUInt32 && kind <= kFastInt64;
}

export function isFastString(kind: number): boolean {
  return kind === kFastAscii || kind === kFastUnicode || kind === kFastByteVector;
}

/**
 * One field of a compiled template. Every property is assigned in the constructor (one hidden class
 * for all instructions, so the decoder's switch sees a monomorphic object).
 */
export class FastInstruction {
  kind: number;
  name: string;
  /** FIX tag from the `id` attribute ('' if none). */
  fieldId: string;
  optional: boolean;
  op = kFastOpNone;
  /** Takes a bit of the enclosing segment's presence map (operator/presence rule, or an optional group). */
  usesPmapBit = false;
  /** Index in the enclosing group's block of the value tape. */
  slot = 0;
  /** Dictionary entry of the operator, -1 for none/constant/default. */
  entry = -1;
  hasInitial = false;
  /** Integer value, or decimal mantissa, of the initial value. */
  initial = 0;
  /** Decimal exponent of the initial value. */
  initialExponent = 0;
  /** uInt64 initial value as high/low 32-bit halves (exact beyond 2^53). */
  initialHigh = 0;
  initialLow = 0;
  /** String/byteVector initial value: offset and length in the registry's constants arena. */
  initialOffset = 0;
  initialLength = 0;
  /** kFastDecimalSplit: the exponent (int32) and mantissa (int64) sub-fields. */
  exponent: FastInstruction | null = null;
  mantissa: FastInstruction | null = null;
  /** kFastSequence: the length field (uInt32; nullable when the sequence is optional). */
  length: FastInstruction | null = null;
  /** kFastSequence: each element's fields; kFastGroup: the group's fields (slots in the parent's block). */
  group: FastGroup | null = null;

  constructor(kind: number, name: string, fieldId: string, optional: boolean) {
    this.kind = kind;
    this.name = name;
    this.fieldId = fieldId;
    this.optional = optional;
  }
}

/** A segment's fields: a template body, a sequence element, or a group (flattened into its parent's block). */
export class FastGroup {
  readonly instructions: FastInstruction[] = [];
  /** The segment carries its own presence map (some field takes a bit). */
  needsPmap = false;
  /** Tape slots one instance of the block takes (groups count toward their parent's block). */
  slotCount = 0;
  /** Presence-map bits a fully populated instance can use, for overlong-map detection. */
  pmapBits = 0;
  private readonly byName = new Map<string, FastInstruction>();

  constructor(readonly name: string) {}

  add(ins: FastInstruction): void {
    this.instructions.push(ins);
    if (!this.byName.has(ins.name)) this.byName.set(ins.name, ins);
  }

  /** A field by name, looking into flattened groups; undefined if there is none. */
  field(name: string): FastInstruction | undefined {
    const direct = this.byName.get(name);
    if (direct !== undefined) return direct;
    for (const ins of this.instructions) {
      if (ins.kind === kFastGroup) {
        const inner = ins.group!.field(name);
        if (inner !== undefined) return inner;
      }
    }
    return undefined;
  }

  /** Slot of a field, throwing a FastTemplateError naming what is missing (start-up wiring). */
  slotOf(name: string): number {
    const ins = this.field(name);
    if (ins === undefined) throw new FastTemplateError(`${this.name} has no field ${name}`);
    return ins.slot;
  }
}

export class FastTemplate {
  /** Resets every dictionary before its fields are decoded (SCP 1.1 `reset` attribute, or the Reset template). */
  readonly reset: boolean;
  /** The body compiled to one function (fast-compiler.ts), set once when the first decoder is built. */
  decodeBody: FastCompiledBody | undefined = undefined;
  /** The compiled body sets the state of every slot of its block (fast-compiler.ts): no clearing needed. */
  decodeBodyWritesEverySlot = false;
  constructor(readonly id: number, readonly name: string, readonly body: FastGroup, reset: boolean) {
    this.reset = reset;
  }
}

export interface FastDictionaryEntryInfo {
  /** 'global', 'template:<id>', 'type:<name>' or the dictionary's own name. */
  scope: string;
  key: string;
  /** 'int', 'decimal' or 'string'. */
  valueKind: string;
}

/** Every template of a venue's file, by id and name, and the dictionary layout they share. */
export class FastTemplateRegistry {
  readonly byId = new Map<number, FastTemplate>();
  readonly byName = new Map<string, FastTemplate>();
  /** Dense table by id (ids up to kMaxDenseId), undefined elsewhere: one load per message instead of a Map lookup. */
  readonly dense: (FastTemplate | undefined)[] = [];
  readonly entries: FastDictionaryEntryInfo[] = [];
  /** Initial string values (ASCII already 7-bit). */
  constants: Uint8Array = new Uint8Array(0);

  get dictionarySize(): number { return this.entries.length; }

  template(id: number): FastTemplate | undefined {
    return id < this.dense.length ? this.dense[id] : this.byId.get(id);
  }

  /** A template by name, throwing a FastTemplateError when the file has none (start-up wiring). */
  templateNamed(name: string): FastTemplate {
    const t = this.byName.get(name);
    if (t === undefined) throw new FastTemplateError(`no template named ${name} (have: ${[...this.byName.keys()].join(', ')})`);
    return t;
  }
}

const kMaxDenseId = 65535;

export interface FastLoadOptions {
  /** Defined templates take precedence; otherwise id 120 resets the dictionaries (default true). */
  builtInResetTemplate?: boolean;
}

// ---- Loading.

interface Scope {
  /** Dictionary name in force ('global', 'template', 'type' or a user name). */
  dictionary: string;
  templateId: number;
  templateName: string;
  appType: string;
}

const kIntegerTags: Record<string, number> = { uInt32: kFastUInt32, int32: kFastInt32, uInt64: kFastUInt64, int64: kFastInt64 };
const kOperatorTags: Record<string, number> = {
  constant: kFastOpConstant, default: kFastOpDefault, copy: kFastOpCopy, increment: kFastOpIncrement, delta: kFastOpDelta, tail: kFastOpTail,
};

class Loader {
  private readonly registry = new FastTemplateRegistry();
  private readonly entryIndex = new Map<string, number>();
  private readonly constants: number[] = [];
  private readonly elements = new Map<string, { el: XmlElement; inherited: string }>();
  private readonly inlining: string[] = [];

  load(root: XmlElement, options: FastLoadOptions): FastTemplateRegistry {
    const templates = root.localName === 'templates' ? root.children.filter((c) => c.localName === 'template')
      : root.localName === 'template' ? [root] : [];
    if (templates.length === 0) throw new FastTemplateError(`expected <templates> of <template> elements, found <${root.name}>`);
    const rootDictionary = root.localName === 'templates' ? root.attributes.dictionary ?? 'global' : 'global';
    for (const t of templates) {
      const name = t.attributes.name;
      if (name === undefined) throw new FastTemplateError(`template at line ${t.line} has no name`);
      if (this.elements.has(name)) throw new FastTemplateError(`template ${name} is defined twice`);
      this.elements.set(name, { el: t, inherited: rootDictionary });
    }
    for (const t of templates) {
      const name = t.attributes.name;
      const idText = t.attributes.id;
      const id = idText === undefined ? -1 : Number(idText);
      if (idText !== undefined && (!Number.isInteger(id) || id < 0 || id > 0xffffffff)) {
        throw new FastTemplateError(`template ${name}: id ${idText} is not a uInt32`);
      }
      const scope: Scope = { dictionary: t.attributes.dictionary ?? rootDictionary, templateId: id, templateName: name, appType: '' };
      const body = new FastGroup(name);
      this.inlining.push(name);
      this.fields(t, body, scope, body);
      this.inlining.pop();
      finishGroup(body);
      const resetAttr = (t.attributes.reset ?? '').toLowerCase();
      const template = new FastTemplate(id, name, body, resetAttr === 'y' || resetAttr === 'yes' || resetAttr === 'true');
      this.registry.byName.set(name, template);
      if (id >= 0) {
        if (this.registry.byId.has(id)) throw new FastTemplateError(`template id ${id} is used by ${this.registry.byId.get(id)!.name} and ${name}`);
        this.registry.byId.set(id, template);
      }
    }
    if ((options.builtInResetTemplate ?? true) && !this.registry.byId.has(kFastResetTemplateId)) {
      const reset = new FastTemplate(kFastResetTemplateId, 'Reset', new FastGroup('Reset'), true);
      this.registry.byId.set(kFastResetTemplateId, reset);
    }
    let maxId = -1;
    for (const id of this.registry.byId.keys()) if (id <= kMaxDenseId && id > maxId) maxId = id;
    for (let i = 0; i <= maxId; i++) this.registry.dense.push(this.registry.byId.get(i));
    this.registry.constants = Uint8Array.from(this.constants);
    return this.registry;
  }

  /** Compile `parent`'s field children into `group`; `block` is the group whose slots they take. */
  private fields(parent: XmlElement, group: FastGroup, scope: Scope, block: FastGroup): void {
    for (const el of parent.children) {
      if (el.localName === 'typeRef') { scope.appType = el.attributes.name ?? ''; continue; }
      if (el.localName === 'length' || el.localName === 'exponent' || el.localName === 'mantissa') continue;
      this.field(el, group, scope, block);
    }
  }

  private field(el: XmlElement, group: FastGroup, scope: Scope, block: FastGroup): void {
    const tag = el.localName;
    const name = el.attributes.name ?? '';
    const where = `template ${scope.templateName}, field ${name || `<${tag}>`} (line ${el.line})`;
    const presence = el.attributes.presence ?? 'mandatory';
    if (presence !== 'mandatory' && presence !== 'optional') throw new FastTemplateError(`${where}: presence="${presence}" is neither mandatory nor optional`);
    const optional = presence === 'optional';
    if (tag === 'templateRef') {
      const ref = el.attributes.name;
      if (ref === undefined) {
        const ins = new FastInstruction(kFastDynamicRef, '', '', false);
        ins.slot = block.slotCount++;
        group.add(ins);
        return;
      }
      const target = this.elements.get(ref);
      if (target === undefined) throw new FastTemplateError(`${where}: static templateRef to unknown template ${ref}`);
      if (this.inlining.includes(ref)) throw new FastTemplateError(`${where}: templateRef cycle ${[...this.inlining, ref].join(' -> ')}`);
      this.inlining.push(ref);
      // The referenced template's fields join this segment; its own dictionary attribute applies.
      const inner: Scope = { ...scope, dictionary: target.el.attributes.dictionary ?? scope.dictionary };
      this.fields(target.el, group, inner, block);
      this.inlining.pop();
      return;
    }
    if (name === '') throw new FastTemplateError(`${where}: field has no name`);
    const fieldId = el.attributes.id ?? '';
    const intKind = kIntegerTags[tag];
    if (intKind !== undefined) {
      const ins = new FastInstruction(intKind, name, fieldId, optional);
      this.operator(ins, el, scope, where, 'int');
      ins.slot = block.slotCount++;
      group.add(ins);
      return;
    }
    switch (tag) {
      case 'decimal': {
        const exp = el.children.find((c) => c.localName === 'exponent');
        const mant = el.children.find((c) => c.localName === 'mantissa');
        if (exp === undefined && mant === undefined) {
          const ins = new FastInstruction(kFastDecimal, name, fieldId, optional);
          this.operator(ins, el, scope, where, 'decimal');
          ins.slot = block.slotCount++;
          group.add(ins);
          return;
        }
        const ins = new FastInstruction(kFastDecimalSplit, name, fieldId, optional);
        const e = new FastInstruction(kFastInt32, name, fieldId, optional);
        this.operator(e, exp ?? { ...el, children: [] }, scope, `${where} exponent`, 'int', '/exponent');
        const m = new FastInstruction(kFastInt64, name, fieldId, false);
        this.operator(m, mant ?? { ...el, children: [] }, scope, `${where} mantissa`, 'int', '/mantissa');
        ins.exponent = e;
        ins.mantissa = m;
        ins.slot = block.slotCount++;
        group.add(ins);
        return;
      }
      case 'string':
      case 'byteVector': {
        const charset = el.attributes.charset ?? 'ascii';
        if (charset !== 'ascii' && charset !== 'unicode') throw new FastTemplateError(`${where}: charset="${charset}" is neither ascii nor unicode`);
        const kind = tag === 'byteVector' ? kFastByteVector : charset === 'unicode' ? kFastUnicode : kFastAscii;
        const ins = new FastInstruction(kind, name, fieldId, optional);
        this.operator(ins, el, scope, where, 'string');
        ins.slot = block.slotCount++;
        group.add(ins);
        return;
      }
      case 'sequence': {
        const ins = new FastInstruction(kFastSequence, name, fieldId, optional);
        const inner: Scope = { ...scope, dictionary: el.attributes.dictionary ?? scope.dictionary };
        const lengthEl = el.children.find((c) => c.localName === 'length');
        const lengthName = lengthEl?.attributes.name ?? `${name}.length`;
        const len = new FastInstruction(kFastUInt32, lengthName, lengthEl?.attributes.id ?? '', optional);
        this.operator(len, lengthEl ?? { ...el, children: [] }, inner, `${where} length`, 'int');
        ins.length = len;
        const element = new FastGroup(`${scope.templateName}.${name}`);
        const elementScope: Scope = { ...inner };
        this.fields(el, element, elementScope, element);
        finishGroup(element);
        ins.group = element;
        ins.slot = block.slotCount++;
        group.add(ins);
        return;
      }
      case 'group': {
        const ins = new FastInstruction(kFastGroup, name, fieldId, optional);
        ins.usesPmapBit = optional;
        ins.slot = block.slotCount++;
        const inner = new FastGroup(`${scope.templateName}.${name}`);
        const innerScope: Scope = { ...scope, dictionary: el.attributes.dictionary ?? scope.dictionary };
        this.fields(el, inner, innerScope, block);
        finishGroup(inner);
        ins.group = inner;
        group.add(ins);
        return;
      }
      default:
        throw new FastTemplateError(`${where}: unknown field element <${el.name}>`);
    }
  }

  /** Read the operator child of `el` into `ins`, checking the combination (spec 6.3, 9.x static errors). */
  private operator(ins: FastInstruction, el: XmlElement, scope: Scope, where: string, valueKind: string, keySuffix = ''): void {
    const opEl = el.children.find((c) => kOperatorTags[c.localName] !== undefined);
    const op = opEl === undefined ? kFastOpNone : kOperatorTags[opEl.localName];
    ins.op = op;
    const kind = ins.kind;
    const str = isFastString(kind);
    const dec = kind === kFastDecimal;
    if (op === kFastOpIncrement && !isFastInteger(kind)) throw new FastTemplateError(`${where}: increment applies only to integers (S2)`);
    if (op === kFastOpTail && !str) throw new FastTemplateError(`${where}: tail applies only to strings and byte vectors (S2)`);
    const value = opEl?.attributes.value;
    if (op === kFastOpConstant && value === undefined) throw new FastTemplateError(`${where}: constant needs a value (S4)`);
    if (op === kFastOpDefault && value === undefined && !ins.optional) throw new FastTemplateError(`${where}: a mandatory default needs a value (S5)`);
    if (value !== undefined) this.initialValue(ins, value, where, dec);
    // Presence map bit (spec 6.2.1 table).
    switch (op) {
      case kFastOpNone: case kFastOpDelta: ins.usesPmapBit = false; break;
      case kFastOpConstant: ins.usesPmapBit = ins.optional; break;
      default: ins.usesPmapBit = true; break;
    }
    if (op === kFastOpCopy || op === kFastOpIncrement || op === kFastOpDelta || op === kFastOpTail) {
      const dictionary = opEl!.attributes.dictionary ?? el.attributes.dictionary ?? scope.dictionary;
      const key = (opEl!.attributes.key ?? ins.name) + keySuffix;
      let scopeName: string;
      if (dictionary === 'global') scopeName = 'global';
      else if (dictionary === 'template') scopeName = `template:${scope.templateName}`;
      else if (dictionary === 'type') scopeName = `type:${scope.appType}`;
      else scopeName = `named:${dictionary}`;
      const k = `${scopeName}\u0000${key}\u0000${valueKind}`;
      let entry = this.entryIndex.get(k);
      if (entry === undefined) {
        entry = this.registry.entries.length;
        this.registry.entries.push({ scope: scopeName, key, valueKind });
        this.entryIndex.set(k, entry);
      }
      ins.entry = entry;
    }
  }

  private initialValue(ins: FastInstruction, text: string, where: string, decimal: boolean): void {
    ins.hasInitial = true;
    const kind = ins.kind;
    if (isFastInteger(kind)) {
      if (!/^\s*-?\d+\s*$/.test(text)) throw new FastTemplateError(`${where}: initial value "${text}" is not an integer (S3)`);
      const big = BigInt(text.trim());
      const [lo, hi] = kind === kFastUInt32 ? [0n, 0xffffffffn] : kind === kFastInt32 ? [-(2n ** 31n), 2n ** 31n - 1n]
        : kind === kFastUInt64 ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
      if (big < lo || big > hi) throw new FastTemplateError(`${where}: initial value ${text} is out of range for ${kFastKindNames[kind]} (S3)`);
      if (kind === kFastInt64 && (big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER))) {
        throw new FastTemplateError(`${where}: initial value ${text} is beyond 2^53, which this decoder keeps exact only for uInt64`);
      }
      ins.initial = Number(big);
      ins.initialHigh = Number(big >> 32n) >>> 0;
      ins.initialLow = Number(big & 0xffffffffn);
      if (kind !== kFastUInt64) { ins.initialHigh = 0; ins.initialLow = 0; }
      return;
    }
    if (decimal) {
      const d = parseDecimal(text);
      if (d === undefined) throw new FastTemplateError(`${where}: initial value "${text}" is not a decimal (S3)`);
      ins.initial = d.mantissa;
      ins.initialExponent = d.exponent;
      return;
    }
    let bytes: number[];
    if (kind === kFastByteVector) {
      const hex = text.replace(/\s+/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new FastTemplateError(`${where}: byteVector initial value "${text}" is not hex (S3)`);
      bytes = [];
      for (let i = 0; i < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
    } else if (kind === kFastUnicode) {
      bytes = [...Buffer.from(text, 'utf8')];
    } else {
      bytes = [];
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 0x7f) throw new FastTemplateError(`${where}: initial value "${text}" is not ASCII (S3)`);
        bytes.push(c);
      }
    }
    ins.initialOffset = this.constants.length;
    ins.initialLength = bytes.length;
    for (const b of bytes) this.constants.push(b);
  }
}

function finishGroup(g: FastGroup): void {
  let bits = 0;
  for (const ins of g.instructions) bits += pmapBitsOf(ins);
  g.pmapBits = bits;
  g.needsPmap = bits > 0;
}

/** Bits an instruction can take in its segment's map (a group's own fields count when it is flattened). */
function pmapBitsOf(ins: FastInstruction): number {
  switch (ins.kind) {
    case kFastDecimalSplit: return (ins.exponent!.usesPmapBit ? 1 : 0) + (ins.mantissa!.usesPmapBit ? 1 : 0);
    case kFastSequence: return ins.length!.usesPmapBit ? 1 : 0;
    case kFastGroup: return ins.usesPmapBit ? 1 : 0;
    default: return ins.usesPmapBit ? 1 : 0;
  }
}

/** "9427.55" -> mantissa 942755, exponent -2; trailing zeros move into the exponent ("1200" -> 12e2). */
export function parseDecimal(text: string): { mantissa: number; exponent: number } | undefined {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  let digits = (m[2] + (m[3] ?? '')).replace(/^0+(?=\d)/, '');
  let exponent = -(m[3] ?? '').length + (m[4] === undefined ? 0 : Number(m[4]));
  if (/^0+$/.test(digits)) return { mantissa: 0, exponent: 0 };
  while (digits.length > 1 && digits.endsWith('0')) { digits = digits.slice(0, -1); exponent++; }
  const mantissa = Number(digits) * (m[1] === '-' ? -1 : 1);
  if (!Number.isSafeInteger(mantissa) || exponent < -63 || exponent > 63) return undefined;
  return { mantissa, exponent };
}

/** Load a venue's template file (the XML text). Throws FastTemplateError on anything it cannot use. */
export function loadFastTemplates(xml: string, options: FastLoadOptions = {}): FastTemplateRegistry {
  return new Loader().load(parseXml(xml), options);
}
