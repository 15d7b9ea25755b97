// FIX/FAST market data (`tickpath/feed`): templates loaded from a venue's XML, the in-place decoder,
// the channel decoder (FastFeedDecoder) and MOEX's book adapter, layouts, framing and A/B arbitration.
// The encoder and the session generator serve tests, `tickpath gen` and replay, not a feed handler,
// and are imported from their files like the ITCH encoders.
export * from './fast-templates';
export * from './fast-decoder';
export * from './fast-feed-decoder';
export { fastMessageToObject } from './fast-json';
export * from './moex/moex-packet';
export * from './moex/moex-messages';
export * from './moex/moex-instruments';
export * from './moex/moex-line-arbiter';
export * from './moex/fast-book-adapter';
