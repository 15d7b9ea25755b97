// tickpath public API, one namespace per area (their flat names would collide); see docs/ARCHITECTURE.md.
export { TickpathError } from './errors';
export * as binding from './binding';
export * as common from './common';
export * as config from './config';
export * as feed from './feed';
export * as pipeline from './pipeline';
export * as router from './router';
export { Port, RxConsumer, TxProducer } from './binding';
export { FeedHandler, Pipeline } from './pipeline';
export { OrderRouter } from './router';
