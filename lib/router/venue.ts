/**
 * The contract between the order router (OrderManager, SmartRouter, OrderRouter) and a venue
 * session (OUCH 4.2 over SoupBinTCP 3.0, FIX 4.2/4.4). The router calls the send methods from the
 * router worker; the connector reports everything the venue says through `VenueListener`, on the
 * same thread (connectors run their sockets on that worker's event loop).
 *
 * Prices are integers in Price(4) units (1.2345 USD = 12345), as in ITCH and OUCH; the FIX
 * connector converts at its boundary. Quantities are whole shares.
 */

import type { SessionIdlePolicy } from '../protocols/transport/session-waiter';

export type Side = 'B' | 'S' | 'SS';           // buy, sell, sell short (OUCH buy/sell indicator)
export type TimeInForce = 'DAY' | 'IOC';
export type OrdType = 'LIMIT' | 'MARKET';

/** What a connector needs to put one new order on the wire. */
export interface VenueOrder {
  /** Client order id: at most 14 printable ASCII characters (the OUCH 4.2 order token size). */
  clOrdId: string;
  symbol: string;        // at most 8 characters
  side: Side;
  qty: number;
  price: number;         // Price(4); ignored for MARKET
  ordType: OrdType;
  tif: TimeInForce;
}

export type SessionState = 'DISCONNECTED' | 'CONNECTING' | 'LOGGED_IN' | 'LOGGED_OUT' | 'FAILED';

export interface VenueListener {
  /** Venue accepted the order (OUCH Accepted, FIX ExecutionReport 150=0). */
  onAck(clOrdId: string, venueOrderId: string): void;
  /** Venue refused a new order or a cancel/replace (OUCH Rejected, FIX 150=8 / 35=9). */
  onReject(clOrdId: string, reason: string): void;
  /** A fill of `qty` at `price` (Price(4)); execId is unique per venue session. */
  onFill(clOrdId: string, qty: number, price: number, execId: string): void;
  /** `canceledQty` shares were taken off the book; the order may still have shares open. */
  onCancelled(clOrdId: string, canceledQty: number, reason: string): void;
  /** Cancel/replace done: `newClOrdId` now stands for the order with qty/price. */
  onReplaced(origClOrdId: string, newClOrdId: string, qty: number, price: number): void;
  onSessionState(state: SessionState, detail: string): void;
}

export interface VenueConnector {
  readonly name: string;                 // venue name from routing_config.yml
  readonly protocol: 'ouch' | 'fix42' | 'fix44';
  /**
   * True when the venue ignores a request whose id it has already seen that day (OUCH tokens), so
   * a request that may or may not have reached it before a crash can be sent again with the same
   * id. False where a reused id is refused (FIX ClOrdID): such orders are reconciled instead.
   */
  readonly resendsIdempotently: boolean;
  setListener(listener: VenueListener): void;
  /** Connects and logs in; resolves once logged in, rejects with a TickpathError naming the cause. */
  connect(): Promise<void>;
  /** Each send returns false when the session cannot take the message now (not logged in). */
  sendNew(order: VenueOrder): boolean;
  sendCancel(clOrdId: string, symbol: string, side: Side, remainingQty: number): boolean;
  sendReplace(origClOrdId: string, newClOrdId: string, symbol: string, side: Side, qty: number, price: number): boolean;
  /** Logs out and closes the socket. */
  close(): Promise<void>;
  /**
   * Session counters: messages in/out, bad frames, reconnects, resends; and `transport`, the kind
   * of transport carrying the session ('native' or 'libuv'), so a silent fallback shows.
   */
  stats(): Record<string, number | string>;
  /**
   * Optional, keep-warm: reads (never writes) the buffer the next new order will be encoded into,
   * so an order after a quiet stretch finds it cached; returns a sum the caller keeps.
   */
  touchSendPath?(): number;
  /** 'native' (the addon's TCP channel, polled by the owner) or 'libuv' (net.Socket). */
  readonly transport?: 'native' | 'libuv';
  /** How the session's owner should idle (routing_config venues[].idle, spin_us); in stats() as idle / spinUs. */
  readonly idle?: SessionIdlePolicy;
  /**
   * One turn of the owner's loop: receive and handle what the venue sent (acks arrive inside this
   * call on the native transport), heartbeats, timeouts and reconnects on `nowMs`. Returns bytes
   * received. Call it every loop turn; a libuv session receives by events and only runs its checks.
   */
  poll?(nowMs: number): number;
  /**
   * Sequence number of the last sequenced message taken from the venue (SoupBinTCP sequence,
   * FIX MsgSeqNum in); 0 before any. The router journals it once per batch, not per message.
   */
  readonly lastSequence?: number;
  /**
   * The session's next outbound sequence number where the venue checks ours (FIX MsgSeqNum out);
   * undefined for OUCH (SoupBinTCP numbers only the venue's messages). Journaled with lastSequence,
   * so a hot standby can log on above every number the primary used.
   */
  readonly nextOutSequence?: number;
  /**
   * Failover takeover (FIX): the standby has no copy of the primary's session store, so it adopts
   * the session as the replicated journal describes it before logging on: `session` (venueSession
   * form), the next outbound number to use and the last inbound number applied. The store's sent
   * messages are dropped: a ResendRequest for anything before `nextOut` is answered with a
   * SequenceReset-GapFill (orders in flight are reconciled by Order Status Request instead).
   */
  adoptSession?(session: string, nextOut: number, lastIn: number): void;
  /**
   * '' while the venue's session window (routing_config.yml `schedule`) is open or there is none;
   * else why: the router refuses orders that only this venue could take with SESSION_CLOSED and
   * this text.
   */
  readonly sessionWindowClosed?: string;
  /**
   * Which venue session the connector is logged in to ('' before the first login), at most 14
   * characters: the SoupBinTCP session name of the Login Accepted; for FIX the start of the
   * session's sequence numbers (a store created or reset, e.g. ResetSeqNumFlag on Logon or the
   * daily reset). The router journals it; when it changes (a new day, a fresh venue) the orders the
   * router still holds open there ended with the old session and are settled as done for day.
   */
  readonly venueSession?: string;
  /**
   * Asks the venue for the state of an order restored after a restart (FIX Order Status Request),
   * `filledQty` being what the router already counted. The answer arrives as the usual listener
   * calls (ack, the fills not yet counted, cancel); an order the venue never received is sent again
   * with the same id. Only where `resendsIdempotently` is false; false when it could not be sent.
   */
  requestStatus?(order: VenueOrder, filledQty: number): boolean;
  /**
   * A replace in flight at a restart, where resending is not safe (FIX): asks the venue about the
   * original and the new id (two Order Status Requests) and reports the venue's state through the
   * listener: onReplaced and the new id's fills/cancel if the venue replaced it, else onReject of
   * the new id and the original's state. False when it could not be sent.
   */
  requestReplaceStatus?(orig: VenueOrder, newClOrdId: string, newQty: number, newPrice: number, filledQty: number): boolean;
  /**
   * After a restart: the exec ids (journal key form, `execIdKey`) of the fills the journal holds
   * for this venue, so a connector that tracks what it applied (FIX CumQty) does not count a fill
   * the venue resends from before the crash.
   */
  restoreExecIds?(keys: Iterable<string>): void;
}
