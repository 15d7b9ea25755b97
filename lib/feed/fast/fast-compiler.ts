/**
 * Template compiler: turns each template body (and each sequence element and group in it) into one
 * JavaScript function, generated once at start-up with `new Function`, that decodes its fields in a
 * straight line onto the decoder's value tape.
 *
 * Why: the interpreter (FastDecoder.fields) pays a switch on the field kind, another on the operator
 * and a presence-map cursor update for every field of every message, about 20 ns a field. Here all
 * of that is settled when the template is loaded: each field's slot, dictionary entry, nullability,
 * initial value and presence-map bit are literals in the generated code, so a field is a wire read
 * and a few typed-array stores. Presence-map bits are addressed by their fixed position in the map
 * (every field before them takes a known number of bits), not by a moving cursor.
 *
 * The interpreter stays the reference: operators compiled here are the common ones (integers with
 * every operator, decimals without delta, ASCII strings with none/constant/default/copy, uInt64
 * without an operator, sequences, groups). Anything else (tail, string and decimal deltas, uInt64
 * operators, unicode and byte vectors with an operator, dynamic template references, split
 * decimals) is handed to the interpreter's own per-field code with the presence-map cursor set to
 * the field's bit, so both paths share one implementation of the rare cases. A split decimal takes
 * its mantissa's bit only when the exponent is present, so from one onward the rest of its segment
 * runs in the interpreter. The tests run the whole suite, the property tests and a differential
 * fuzz against both paths.
 *
 * The generated functions read the decoder's internal fields by name (they are public for this
 * reason, not for callers); they are shared by every decoder of the registry and own no state.
 */
import {
  FastGroup, FastInstruction, FastTemplateRegistry, kFastAscii, kFastDecimal, kFastDecimalSplit, kFastGroup, kFastInt32, kFastInt64,
  kFastOpConstant, kFastOpCopy, kFastOpDefault, kFastOpDelta, kFastOpIncrement, kFastOpNone, kFastSequence, kFastUInt32, kFastUInt64,
} from './fast-templates';

/** (decoder, block base, presence-map start, presence-map length) -> false on a decode error (decoder.err set). */
export type FastCompiledBody = (d: unknown, base: number, pmStart: number, pmLength: number) => boolean;

const kMaxSafe = Number.MAX_SAFE_INTEGER;
// Error codes (mirror fast-decoder.ts; not imported to keep this file free of a decoder dependency).
const kOverflow = -4;
const kMissing = -5;
const kBadExponent = -7;
const kTooLong = -8;
const kTruncated = -2;
const kOverlongString = -10;
/** A stop-bit value at or above this cannot take another 7 bits and stay below 2^53 (fast-decoder.ts). */
const kShiftLimit = 70368744177664;

/**
 * Stop-bit integers read inline, into v: the calls to the decoder's readers were most of a field's
 * cost once V8 ran out of inlining budget in a template this size.
 */
const kReadUint = `v = 0; for (;;) { if (p >= E) return d.fail(${kTruncated}); c = B[p++]; v = v * 128 + (c & 127); if ((c & 128) !== 0) break; if (v >= ${kShiftLimit}) return d.fail(${kOverflow}); }`;
const kReadInt = `if (p >= E) return d.fail(${kTruncated}); c = B[p++]; v = (c & 64) !== 0 ? (c & 127) - 128 : c & 127;`
  + ` while ((c & 128) === 0) { if (v >= ${kShiftLimit} || v < -${kShiftLimit}) return d.fail(${kOverflow}); if (p >= E) return d.fail(${kTruncated}); c = B[p++]; v = v * 128 + (c & 127); }`;

const compiledRegistries = new WeakSet<FastTemplateRegistry>();

/** Compile every template of a registry once (idempotent); the decoder calls it when it is built. */
export function compileFastTemplates(registry: FastTemplateRegistry): void {
  if (compiledRegistries.has(registry)) return;
  for (const t of registry.byId.values()) {
    if (t.decodeBody === undefined) {
      const c = compileGroup(t.body, 1, false);
      t.decodeBody = c.fn;
      t.decodeBodyWritesEverySlot = c.writesEverySlot;
    }
  }
  compiledRegistries.add(registry);
}

/** Source of a template's compiled body, for tests and for reading what the compiler did. */
export function compiledSource(registry: FastTemplateRegistry, name: string): string {
  compileFastTemplates(registry);
  return String(registry.templateNamed(name).decodeBody);
}

/**
 * One function for one group. `firstBit` is the first presence-map bit its fields take (1 in a
 * template body, after the template id bit); `ownPmap` makes it read its own map first (sequence
 * elements and groups that need one).
 */
function compileGroup(g: FastGroup, firstBit: number, ownPmap: boolean): { fn: FastCompiledBody; writesEverySlot: boolean } {
  const c = new GroupCompiler(firstBit);
  // The element's own map, read in line (a call per sequence element otherwise). The decoder's
  // map cursor is not set: interpret() sets it before any field it hands over.
  if (ownPmap) c.line(`pmS = p; for (;;) { if (p >= E) return d.fail(${kTruncated}); if ((B[p++] & 128) !== 0) break; } pmL = p - pmS;`);
  c.fields(g.instructions, 0);
  // `p` is the read position, kept in a local and written back to d.pos around every call that
  // reads or moves it (the interpreter, uInt64, nested groups) and at the end.
  const src = `return function ${safeName(g.name)}(d, base, pmS, pmL) {
  const B = d.buffer, E = d.end; let p = d.pos, num = d.num, aux = d.aux, ext = d.ext, st = d.state, gen = d.generation;
  const dG = d.dGeneration, dS = d.dState, dN = d.dNum, dA = d.dAux, dIP = d.dInPacket, dPO = d.dPacketOffset, tS = d.transientStrings;
  let v = 0, nul = false, ds = 0, e1 = 0, m = 0, n = 0, eb = 0, c = 0, s0 = 0, so = 0, sl = 0, hi = 0, lo = 0;
${c.body.join('\n')}
  d.pos = p;
  return true;
};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const fn = new Function('I', 'F', src)(c.instructions, c.functions) as FastCompiledBody;
  return { fn, writesEverySlot: c.writesEverySlot };
}

function safeName(name: string): string {
  return `fast_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

class GroupCompiler {
  readonly body: string[] = [];
  /** Instructions handed to the interpreter, by index (the generated code's `I`; shared with inlined sequence elements). */
  readonly instructions: FastInstruction[];
  /** Compiled groups (the generated code's `F`). */
  readonly functions: FastCompiledBody[];
  /**
   * Names of the block base and presence-map locals: `base`/`pmS`/`pmL` in a function's own group,
   * numbered by depth in a sequence element inlined into it (`b1`/`pS1`/`pL1`, ...).
   */
  readonly b: string;
  readonly ps: string;
  readonly pl: string;
  private readonly depth: number;
  private bit: number;
  /** After a split decimal the map cursor is the interpreter's: the rest goes through it. */
  private dynamic = false;
  /**
   * Whether the generated code sets every slot's state on every path (each compiled field does,
   * present or not), so the block needs no clearing when it is allocated: false once a field goes
   * to the interpreter or an optional group (whose fields are left unwritten when it is absent).
   */
  writesEverySlot = true;

  constructor(firstBit: number, depth = 0, instructions: FastInstruction[] = [], functions: FastCompiledBody[] = []) {
    this.bit = firstBit;
    this.depth = depth;
    this.instructions = instructions;
    this.functions = functions;
    this.b = depth === 0 ? 'base' : `b${depth}`;
    this.ps = depth === 0 ? 'pmS' : `pS${depth}`;
    this.pl = depth === 0 ? 'pmL' : `pL${depth}`;
  }

  line(s: string): void { this.body.push(`  ${s}`); }

  fields(list: FastInstruction[], from: number): void {
    for (let i = from; i < list.length; i++) {
      const ins = list[i];
      if (this.dynamic) { this.interpret(ins); continue; }
      this.field(ins);
    }
    // Overlong map (R7/R8): a whole byte of it left unread.
    if (this.dynamic) this.line('d.checkPmapUsed();');
    else this.line(`if (${this.pl} > ${Math.ceil(this.bit / 7)}) d.counters.pmapOverlong++;`);
  }

  /** Test of the next presence-map bit, advancing the compile-time position. */
  private nextBit(): string {
    const k = this.bit++;
    const byte = Math.floor(k / 7);
    return `(${this.pl} > ${byte} && (B[${this.ps} + ${byte}] & ${0x40 >> (k % 7)}) !== 0)`;
  }

  /** Hand one field to the interpreter with its map cursor at this field's bit. */
  private interpret(ins: FastInstruction): void {
    this.writesEverySlot = false;
    const k = this.instructions.push(ins) - 1;
    if (!this.dynamic) {
      const byte = Math.floor(this.bit / 7);
      this.line(`d.pmIndex = ${this.ps} + ${byte}; d.pmEnd = ${this.ps} + ${this.pl}; d.pmMask = ${0x40 >> (this.bit % 7)};`);
      this.bit += bitsOf(ins);
    }
    this.line(`d.pos = p; if (!d.field(I[${k}], ${this.b})) return false;`);
    this.reload();
  }

  /** A call may have moved the read position, grown the tape or reset the dictionaries. */
  private reload(): void {
    this.line('p = d.pos; num = d.num; aux = d.aux; ext = d.ext; st = d.state; gen = d.generation;');
  }

  private field(ins: FastInstruction): void {
    const s = `${this.b} + ${ins.slot}`;
    switch (ins.kind) {
      case kFastUInt32: case kFastInt32: case kFastInt64:
        this.integer(ins, s);
        return;
      case kFastUInt64:
        if (ins.op !== kFastOpNone) break;
        this.uint64(ins, s);
        return;
      case kFastDecimal:
        if (ins.op === kFastOpDelta) break;
        this.decimal(ins, s);
        return;
      case kFastAscii:
        if (ins.op !== kFastOpNone && ins.op !== kFastOpConstant && ins.op !== kFastOpDefault && ins.op !== kFastOpCopy) break;
        this.string(ins, s);
        return;
      case kFastSequence:
        this.sequence(ins, s);
        return;
      case kFastGroup:
        this.group(ins, s);
        return;
      default:
        break;
    }
    this.interpret(ins);
    if (ins.kind === kFastDecimalSplit) this.dynamic = true;
  }

  // ---- Integers (uInt32, int32, int64).

  /** Wire value into v (nul when null), range-checked. */
  private wireInt(ins: FastInstruction): void {
    const opt = ins.optional;
    if (ins.kind === kFastUInt32) {
      this.line(kReadUint);
      if (opt) this.line('if (v === 0) nul = true; else { nul = false; v--; if (v > 4294967295) return d.fail(' + kOverflow + '); }');
      else this.line(`if (v > 4294967295) return d.fail(${kOverflow});`);
      return;
    }
    const range = ins.kind === kFastInt32 ? '(v > 2147483647 || v < -2147483648)' : `(v > ${kMaxSafe} || v < -${kMaxSafe})`;
    this.line(kReadInt);
    if (opt) this.line(`if (v === 0) nul = true; else { nul = false; if (v > 0) v--; if ${range} return d.fail(${kOverflow}); }`);
    else this.line(`if ${range} return d.fail(${kOverflow});`);
  }

  private storeWire(ins: FastInstruction, s: string): void {
    this.line(ins.optional ? `if (nul) st[${s}] = 0; else { num[${s}] = v; st[${s}] = 1; }` : `num[${s}] = v; st[${s}] = 1;`);
  }

  /** Bit clear, or no value on the wire: the initial value or absent (failing when mandatory). */
  private initialOrAbsent(ins: FastInstruction, s: string): string {
    if (ins.hasInitial) return `num[${s}] = ${ins.initial}; st[${s}] = 1;`;
    return ins.optional ? `st[${s}] = 0;` : `st[${s}] = 0; return d.fail(${kMissing});`;
  }

  private integer(ins: FastInstruction, s: string): void {
    const e = ins.entry;
    switch (ins.op) {
      case kFastOpNone:
        this.wireInt(ins);
        this.storeWire(ins, s);
        return;
      case kFastOpConstant:
        if (ins.optional) this.line(`if (!${this.nextBit()}) st[${s}] = 0; else { num[${s}] = ${ins.initial}; st[${s}] = 1; }`);
        else this.line(`num[${s}] = ${ins.initial}; st[${s}] = 1;`);
        return;
      case kFastOpDefault:
        this.line(`if (${this.nextBit()}) {`);
        this.wireInt(ins);
        this.storeWire(ins, s);
        this.line(`} else { ${this.initialOrAbsent(ins, s)} }`);
        return;
      case kFastOpCopy:
      case kFastOpIncrement: {
        this.line(`if (${this.nextBit()}) {`);
        this.wireInt(ins);
        this.line(`dG[${e}] = gen;`);
        this.line(ins.optional ? `if (nul) { st[${s}] = 0; dS[${e}] = 2; } else { num[${s}] = v; st[${s}] = 1; dS[${e}] = 1; dN[${e}] = v; }`
          : `num[${s}] = v; st[${s}] = 1; dS[${e}] = 1; dN[${e}] = v;`);
        this.line('} else {');
        this.line(`ds = dG[${e}] === gen ? dS[${e}] : 0;`);
        const inc = ins.op === kFastOpIncrement ? `v++; if (v > ${maxOf(ins.kind)}) return d.fail(${kOverflow}); dN[${e}] = v; ` : '';
        this.line(`if (ds === 1) { v = dN[${e}]; ${inc}num[${s}] = v; st[${s}] = 1; }`);
        if (ins.hasInitial) this.line(`else if (ds === 0) { num[${s}] = ${ins.initial}; st[${s}] = 1; dG[${e}] = gen; dS[${e}] = 1; dN[${e}] = ${ins.initial}; }`);
        this.line(`else { st[${s}] = 0;${ins.optional ? '' : ` return d.fail(${kMissing});`} }`);
        this.line('}');
        return;
      }
      case kFastOpDelta: {
        this.line(kReadInt);
        if (ins.optional) this.line(`if (v === 0) st[${s}] = 0; else {`);
        if (ins.optional) this.line('if (v > 0) v--;');
        this.line(`ds = dG[${e}] === gen ? dS[${e}] : 0;`);
        this.line(`if (ds === 1) v += dN[${e}]; else if (ds === 0) v += ${ins.hasInitial ? ins.initial : 0}; else return d.fail(${kMissing});`);
        this.line(`if (v > ${maxOf(ins.kind)} || v < ${minOf(ins.kind)}) return d.fail(${kOverflow});`);
        this.line(`num[${s}] = v; st[${s}] = 1; dG[${e}] = gen; dS[${e}] = 1; dN[${e}] = v;`);
        if (ins.optional) this.line('}');
        return;
      }
      default:
        this.interpret(ins);
    }
  }

  /**
   * uInt64 without an operator, inline into the slot's exact halves (fast-decoder.ts wireUint64):
   * in one double while below 2^46, then with a carry into the high half. Inline because a call
   * passing the halves boxed the low one (and the value) in heap numbers, per message.
   */
  private uint64(ins: FastInstruction, s: string): void {
    this.line(`v = 0; for (;;) { if (p >= E) return d.fail(${kTruncated}); c = B[p++]; v = v * 128 + (c & 127); if ((c & 128) !== 0 || v >= ${kShiftLimit}) break; }`);
    this.line('hi = Math.floor(v / 4294967296); lo = v - hi * 4294967296;');
    this.line(`while ((c & 128) === 0) { if (p >= E) return d.fail(${kTruncated}); c = B[p++]; lo = lo * 128 + (c & 127); v = Math.floor(lo / 4294967296); lo -= v * 4294967296; hi = hi * 128 + v; if (hi > 4294967296) return d.fail(${kOverflow}); }`);
    if (ins.optional) this.line('if (hi === 0 && lo === 0) nul = true; else { nul = false; if (lo === 0) { lo = 4294967295; hi--; } else lo--; }');
    const store = `if (hi >= 4294967296) return d.fail(${kOverflow}); num[${s}] = hi * 4294967296 + lo; ext[${s}] = hi; aux[${s}] = lo | 0; st[${s}] = 1;`;
    this.line(ins.optional ? `if (nul) st[${s}] = 0; else { ${store} }` : store);
  }

  // ---- Decimals (one operator).

  /** Exponent and mantissa into e1/m (nul when null). */
  private wireDecimal(ins: FastInstruction): void {
    this.line(`${kReadInt} e1 = v;`);
    const rest = `if (e1 > 63 || e1 < -63) return d.fail(${kBadExponent}); ${kReadInt} m = v; if (m > ${kMaxSafe} || m < -${kMaxSafe}) return d.fail(${kOverflow});`;
    if (ins.optional) this.line(`if (e1 === 0) nul = true; else { nul = false; if (e1 > 0) e1--; ${rest} }`);
    else this.line(rest);
  }

  private decimal(ins: FastInstruction, s: string): void {
    const e = ins.entry;
    const op = ins.op;
    const copy = op === kFastOpCopy;
    const initial = `num[${s}] = ${ins.initial}; aux[${s}] = ${ins.initialExponent}; st[${s}] = 1;`;
    if (op === kFastOpConstant) {
      if (ins.optional) this.line(`if (!${this.nextBit()}) st[${s}] = 0; else { ${initial} }`);
      else this.line(initial);
      return;
    }
    const withBit = op === kFastOpDefault || copy;
    if (withBit) this.line(`if (${this.nextBit()}) {`);
    this.wireDecimal(ins);
    const present = `num[${s}] = m; aux[${s}] = e1; st[${s}] = 1;${copy ? ` dG[${e}] = gen; dS[${e}] = 1; dN[${e}] = m; dA[${e}] = e1;` : ''}`;
    if (ins.optional) this.line(`if (nul) { st[${s}] = 0;${copy ? ` dG[${e}] = gen; dS[${e}] = 2;` : ''} } else { ${present} }`);
    else this.line(present);
    if (!withBit) return;
    this.line('} else {');
    const absent = ins.optional ? `st[${s}] = 0;` : `st[${s}] = 0; return d.fail(${kMissing});`;
    if (op === kFastOpDefault) {
      this.line(ins.hasInitial ? initial : absent);
    } else {
      this.line(`ds = dG[${e}] === gen ? dS[${e}] : 0;`);
      this.line(`if (ds === 1) { num[${s}] = dN[${e}]; aux[${s}] = dA[${e}]; st[${s}] = 1; }`);
      if (ins.hasInitial) this.line(`else if (ds === 0) { ${initial} dG[${e}] = gen; dS[${e}] = 1; dN[${e}] = ${ins.initial}; dA[${e}] = ${ins.initialExponent}; }`);
      this.line(`else { ${absent} }`);
    }
    this.line('}');
  }

  // ---- ASCII strings (none, constant, default, copy).

  private string(ins: FastInstruction, s: string): void {
    const op = ins.op;
    const constant = `num[${s}] = ${ins.initialOffset}; aux[${s}] = ${ins.initialLength}; st[${s}] = 5;`;
    if (op === kFastOpConstant) {
      if (ins.optional) this.line(`if (!${this.nextBit()}) st[${s}] = 0; else { ${constant} }`);
      else this.line(constant);
      return;
    }
    const withBit = op !== kFastOpNone;
    const copy = op === kFastOpCopy;
    if (withBit) this.line(`if (${this.nextBit()}) {`);
    this.wireAscii(ins.optional);
    // An entry of a decoder with transient strings points at the packet (fast-decoder.ts setEntryBytes).
    const e = ins.entry;
    const present = `num[${s}] = so; aux[${s}] = sl; st[${s}] = 2;`
      + (copy ? ` if (tS) { dG[${e}] = gen; dS[${e}] = 1; dA[${e}] = sl; dIP[${e}] = 127; dPO[${e}] = so; } else d.setEntryBytes(${e}, B, so, sl, 127);` : '');
    if (ins.optional) this.line(`if (nul) { st[${s}] = 0;${copy ? ` dG[${ins.entry}] = gen; dS[${ins.entry}] = 2;` : ''} } else { ${present} }`);
    else this.line(present);
    if (!withBit) return;
    this.line('} else {');
    if (copy) {
      // Only an assigned entry (or an initial value) needs the decoder's copy: an undefined or empty
      // one is absent, decided here (optional fields a venue leaves out, every entry of a message).
      const k = this.instructions.push(ins) - 1;
      if (ins.hasInitial) this.line(`if (!d.previousString(I[${k}], ${s})) return false;`);
      else {
        this.line(`ds = dG[${e}] === gen ? dS[${e}] : 0;`);
        this.line(`if (ds === 1) { if (!d.previousString(I[${k}], ${s})) return false; } else { st[${s}] = 0;${ins.optional ? '' : ` return d.fail(${kMissing});`} }`);
      }
    } else if (ins.hasInitial) {
      this.line(constant);
    } else {
      this.line(ins.optional ? `st[${s}] = 0;` : `st[${s}] = 0; return d.fail(${kMissing});`);
    }
    this.line('}');
  }

  /**
   * An ASCII string in place into so/sl (nul when null): the stop bit ends it; a leading zero byte
   * is the preamble of "\0" and, nullable, of the empty string, and any other bytes after it an
   * overlong string (fast-decoder.ts wireString).
   */
  private wireAscii(optional: boolean): void {
    this.line(`s0 = p; for (;;) { if (p >= E) return d.fail(${kTruncated}); if ((B[p++] & 128) !== 0) break; } sl = p - s0; so = s0; nul = false;`);
    const nullOrEmpty = optional ? 'nul = true;' : 'sl = 0;';
    this.line(`if (sl === 1 && B[s0] === 128) { ${nullOrEmpty} } else if (B[s0] === 0) {`);
    // Only the spec's two forms follow a preamble (fast-decoder.ts kFastDecodeOverlongString).
    if (optional) this.line(`if (sl === 2 && B[s0 + 1] === 128) sl = 0; else if (sl === 3 && B[s0 + 1] === 0 && B[s0 + 2] === 128) { so = s0 + 2; sl = 1; } else return d.fail(${kOverlongString});`);
    else this.line(`if (sl !== 2 || B[s0 + 1] !== 128) return d.fail(${kOverlongString}); so = s0 + 1; sl = 1;`);
    this.line('}');
  }

  // ---- Structure.

  private sequence(ins: FastInstruction, s: string): void {
    this.integer(ins.length!, s);
    const g = ins.group!;
    // The element's code is inlined in a loop here, not called per element: a call per MDEntry
    // also reloaded the decoder's arrays and wrote the read position back.
    const D = this.depth + 1;
    const element = new GroupCompiler(0, D, this.instructions, this.functions);
    // Its own map, read in line. The decoder's map cursor is not set: interpret() sets it before
    // any field it hands over.
    if (g.needsPmap) element.line(`${element.ps} = p; for (;;) { if (p >= E) return d.fail(${kTruncated}); if ((B[p++] & 128) !== 0) break; } ${element.pl} = p - ${element.ps};`);
    element.fields(g.instructions, 0);
    const k = g.slotCount;
    this.line(`if (st[${s}] !== 0) {`);
    this.line(`const n${D} = num[${s}]; if (n${D} > d.maxSequenceLength) return d.fail(${kTooLong});`);
    // Element blocks the element's code fills completely are not cleared first.
    this.line(`const eb${D} = d.${element.writesEverySlot ? 'allocFilled' : 'alloc'}(n${D} * ${k}); num = d.num; aux = d.aux; ext = d.ext; st = d.state;`);
    this.line(`aux[${s}] = eb${D}; ext[${s}] = ${k};`);
    this.line(`for (let i${D} = 0; i${D} < n${D}; i${D}++) {`);
    this.line(`const ${element.b} = eb${D} + i${D} * ${k}; let ${element.ps} = 0, ${element.pl} = 0;`);
    for (const l of element.body) this.body.push(`  ${l}`);
    this.line('}');
    this.line('}');
  }

  private group(ins: FastInstruction, s: string): void {
    const g = ins.group!;
    const inner = compileGroup(g, 0, g.needsPmap);
    const f = this.functions.push(inner.fn) - 1;
    if (ins.optional || !inner.writesEverySlot) this.writesEverySlot = false;
    if (ins.optional) this.line(`if (!${this.nextBit()}) st[${s}] = 0; else {`);
    this.line(`st[${s}] = 1;`);
    this.line(`d.pos = p; if (!F[${f}](d, ${this.b}, 0, 0)) return false;`);
    this.reload();
    if (ins.optional) this.line('}');
  }
}

/** Presence-map bits a field takes in its segment's map (split decimals: the interpreter's cursor decides). */
function bitsOf(ins: FastInstruction): number {
  if (ins.kind === kFastSequence) return ins.length!.usesPmapBit ? 1 : 0;
  return ins.usesPmapBit ? 1 : 0;
}

function maxOf(kind: number): number {
  return kind === kFastUInt32 ? 0xffffffff : kind === kFastInt32 ? 0x7fffffff : kMaxSafe;
}

function minOf(kind: number): number {
  return kind === kFastUInt32 || kind === kFastUInt64 ? 0 : kind === kFastInt32 ? -0x80000000 : -kMaxSafe;
}

