/** Test helpers for the FAST codec: template XML wrappers, hex, and MOEX fixture loading. */
import * as fs from 'fs';
import * as path from 'path';
import type { OrderBook } from '../../../lib/feed/book/order-book';
import { FastDecoder, FastDecoderEngine } from '../../../lib/feed/fast/fast-decoder';
import { FastEncoder, FastRecord } from '../../../lib/feed/fast/fast-encoder';
import { fastMessageToObject } from '../../../lib/feed/fast/fast-json';
import { FastTemplateRegistry, loadFastTemplates } from '../../../lib/feed/fast/fast-templates';

export const kFixtures = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'fast');

export function moexTemplates(file = 'moex-asts-fix50sp2-2017-mar.xml'): FastTemplateRegistry {
  return loadFastTemplates(fs.readFileSync(path.join(kFixtures, file), 'utf8'));
}

/** `<templates>` around template bodies given as [name, id, body]. */
export function templates(...defs: [string, number, string][]): FastTemplateRegistry {
  const body = defs.map(([n, id, f]) => `<template name="${n}" id="${id}">${f}</template>`).join('\n');
  return loadFastTemplates(`<templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">${body}</templates>`);
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s,]|0x/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Decode every message of a stream (concatenated messages) into objects, or throw naming the error. */
export function decodeAll(dec: FastDecoder, bytes: Uint8Array): FastRecord[] {
  const out: FastRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    const id = dec.decode(bytes, at, bytes.length - at);
    if (id < 0) throw new Error(`decode failed with ${id} at ${at}`);
    out.push(fastMessageToObject(dec));
    at = dec.position;
  }
  return out;
}

export function encodeAll(enc: FastEncoder, template: string, records: FastRecord[]): Uint8Array[] {
  return records.map((r) => enc.encode(template, r));
}

export const kFastEngines: FastDecoderEngine[] = ['compiled', 'interpreted'];

/**
 * A describe block run once per decoder engine: the compiled templates and the reference interpreter
 * must pass the same tests (decoders built without an `engine` option take the block's).
 */
export function forEachEngine(title: string, body: (this: Mocha.Suite) => void): void {
  for (const engine of kFastEngines) {
    describe(`${title} [${engine}]`, function () {
      before(() => { FastDecoder.defaultEngine = engine; });
      after(() => { FastDecoder.defaultEngine = 'compiled'; });
      body.call(this);
    });
  }
}

/** A book side's levels as [price, shares, orders], best first (both FAST book tests compare these). */
export function levelsOf(book: OrderBook | undefined, bid: boolean): [number, number, number][] {
  if (book === undefined) return [];
  const side = bid ? book.bids : book.asks;
  const out: [number, number, number][] = [];
  for (let r = 0; r < side.count; r++) out.push([side.priceAt(r), side.sharesAt(r), side.ordersAt(r)]);
  return out;
}
