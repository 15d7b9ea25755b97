// Wire codecs and sessions shared by the feed, the router and the venue simulator: SoupBinTCP 3.0,
// OUCH 4.2, the FIX 4.2/4.4 codec, FixSession (the session layer both sides of a FIX link run) and its store.
export * from './soupbin/soupbintcp';
export { SoupBinClient, type SoupClientOptions, type SoupClientHandler } from './soupbin/soupbin-client';
export { SoupBinServer, SoupServerConnection, SoupSessionStream, type SoupServerHandler, type SoupServerOptions } from './soupbin/soupbin-server';
export { TxRing } from './tx-ring';
export * as ouch42 from './ouch/ouch42';
export {
  FixEncoder, FixParser, FixMessage, Tag as FixTag, MsgType as FixMsgType, SOH, isAdminMsgType, writePrice4, parsePrice4,
  writeUtcTimestamp, type FixVersion, type FixBadReason, type FixParserOptions,
} from './fix/fix-codec';
export { FixSession, type FixSessionOptions, type FixApplication, type FixSessionState } from './fix/fix-session';
export { FixFileStore } from './fix/fix-store';
export { FixMappedStore } from './fix/fix-mapped-store';
// Session transports: what carries a venue session's bytes (native: the addon's polled sockets;
// libuv: net.Socket), the connecting and the accepting side.
export {
  NativeTcpTransport, LibuvTcpTransport, TransportSocket, NativeTcpServer, LibuvTcpServer, NativeWaitSet,
  transportFactory, serverTransport, defaultTransportKind, nativeTcpBinding,
  type SessionTransport, type TransportEvents, type TransportFactory, type TransportKind, type TransportState, type TransportStats,
  type ServerTransport, type ServerTransportStats, type TransportChoice, type TransportFactoryOptions, type NativeTcpTransportOptions,
  type NativeTcpServerOptions,
} from './transport';
