// Wire codecs shared by the feed and the router.
export * from './soupbintcp';
export { SoupBinClient, type SoupClientOptions, type SoupClientHandler } from './soupbin-client';
export { SoupBinServer, SoupServerConnection, SoupSessionStream, type SoupServerHandler, type SoupServerOptions } from './soupbin-server';
export { TxRing } from './tx-ring';
export * as ouch42 from './ouch42';
export {
  FixEncoder, FixParser, FixMessage, Tag as FixTag, MsgType as FixMsgType, SOH, isAdminMsgType, writePrice4, parsePrice4,
  writeUtcTimestamp, type FixVersion, type FixBadReason, type FixParserOptions,
} from './fix';
