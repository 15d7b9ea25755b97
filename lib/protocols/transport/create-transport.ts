/**
 * Chooses a session's transport: `native` when the addon has the TCP channel (the default for
 * every caller), `libuv` when asked for or when the addon is not built. Asking for `native`
 * without the addon is an error, not a silent fallback.
 */
import { TickpathError } from '../../errors';
import { LibuvTcpTransport } from './libuv-tcp-transport';
import { NativeTcpTransport, nativeTcpBinding } from './native-tcp-transport';
import type { TransportFactory, TransportKind } from './session-transport';

export type TransportChoice = TransportKind | 'auto';

export interface TransportFactoryOptions {
  busyPollUs?: number;
  idlePollMs?: number;
  /** native: the owner loop's wait set; every socket the sessions open joins it. */
  waitSet?: { addChannel(channelId: number): void };
  /**
   * native: kernel TX software timestamps on each session socket (default true: the order-out
   * instant, native-tcp-transport.ts txStampOf). libuv has none.
   */
  txTimestamps?: boolean;
}

/** The kind `auto` resolves to on this machine. */
export function defaultTransportKind(): TransportKind {
  return nativeTcpBinding() ? 'native' : 'libuv';
}

export function transportFactory(choice: TransportChoice = 'auto', options: TransportFactoryOptions = {}): TransportFactory {
  const kind = choice === 'auto' ? defaultTransportKind() : choice;
  if (kind === 'libuv') return () => new LibuvTcpTransport();
  if (kind !== 'native') throw new TickpathError('ERR_INVALID_OPTION', `transport: ${JSON.stringify(choice)} is not 'native', 'libuv' or 'auto'`);
  if (!nativeTcpBinding()) {
    throw new TickpathError('ERR_BACKEND_UNAVAILABLE', "transport 'native' needs the addon's TCP channel, which is not built", "npm run build:native, or transport: 'libuv'");
  }
  return () => new NativeTcpTransport({ busyPollUs: options.busyPollUs, idlePollMs: options.idlePollMs, waitSet: options.waitSet,
    txTimestamps: options.txTimestamps ?? true });
}
