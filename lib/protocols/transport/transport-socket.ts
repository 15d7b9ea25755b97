/**
 * The few net.Socket members FixSession uses (setNoDelay, destroyed, destroy, once('close')),
 * over a SessionTransport, so the FIX session layer runs over either transport unchanged. Writes
 * go to the transport directly (TxRing sees a DirectSink): no view and no copy per message.
 *
 * `destroy()` closes the transport and runs the 'close' listeners synchronously (net.Socket does
 * it on the next tick; a session driven from a busy loop has no next tick to wait for).
 *
 * Threading: the transport's owner.
 */
import type { SessionTransport } from './session-transport';

export class TransportSocket {
  destroyed = false;
  private closeListeners: Array<() => void> = [];

  constructor(readonly transport: SessionTransport) {}

  /** Both transports set TCP_NODELAY when they connect. */
  setNoDelay(_on?: boolean): this { return this; }

  get writable(): boolean { return !this.destroyed && this.transport.state === 'connected'; }

  send(buf: Buffer, offset: number, length: number): boolean {
    return !this.destroyed && this.transport.send(buf, offset, length);
  }

  once(_event: 'close', listener: () => void): this {
    this.closeListeners.push(listener);
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.transport.close();
    this.closed();
    return this;
  }

  /** The connection is over (the transport reported it, or destroy()): run the 'close' listeners once. */
  closed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const l = this.closeListeners;
    this.closeListeners = [];
    for (const fn of l) fn();
  }
}
