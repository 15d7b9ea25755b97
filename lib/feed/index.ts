// Public market-data surface (`tickpath/feed`): frame and MoldUDP64 parsing, ITCH 5.0 flyweights,
// books and conflation, sequencing and recovery, pcap reading. The encoders and writers that build
// test sessions (ItchEncoder, MoldUdp64Encoder, UdpFrameWriter, PcapWriter) are deliberately not
// here: they serve `tickpath gen`, replay and the tests, not a feed handler.
export * from './itch/itch-schema';
export * from './itch/itch-messages';
export * from './itch/itch-decoder';
export { itchMessageToObject, type ItchFieldValue } from './itch/itch-json';
export * from './wire/udp-frame-parser';
export * from './wire/moldudp64-packet';
export { SoupBinFeed, SoupBinFeedCounters, type SoupBinFeedOptions } from './wire/soupbin-feed';
export * from './feed-decoder';
export { PcapReader } from './pcap/pcap-reader';
export * from './book/symbol-table';
export * from './book/order-store';
export * from './book/price-levels';
export * from './book/order-book';
export * from './book/book-event';
export * from './book/book-builder';
export * from './book/conflator';
export * from './recovery';
export { GlimpseSnapshotClient, GlimpseSnapshotServer, type GlimpseSnapshotServerOptions } from './snapshot/glimpse';
export * from './fast';
