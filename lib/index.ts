// tickpath's public API (`require('tickpath')`): one namespace per area, since their flat names
// would collide, plus the few classes every user starts from. Each area is also its own entry point
// in package.json's `exports` (`tickpath/binding`, `tickpath/feed`, `tickpath/router`,
// `tickpath/pipeline`, ...); nothing under dist/ is reachable otherwise. See docs/ARCHITECTURE.md.
export { TickpathError } from './errors';
export * as binding from './binding';
export * as common from './common';
export * as config from './config';
export * as feed from './feed';
export * as pipeline from './pipeline';
export * as protocols from './protocols';
export * as router from './router';
export { Port, RxConsumer, TxProducer } from './binding';
export { FeedHandler, Pipeline } from './pipeline';
export { OrderRouter } from './router';
