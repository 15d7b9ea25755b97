// The running system: FeedHandler (packets -> books -> events on one thread) and Pipeline (the
// configured stages on pinned workers, with the router and venues).
export { FeedHandler, type FeedHandlerFastOptions, type FeedHandlerOptions, type FeedHandlerStats } from './feed-handler';
export { Pipeline, type PipelineOptions, type PipelineStats, type WorkerHealth } from './pipeline';
export { type Strategy, type StrategyContext, type StrategyModule, type OrderEventKind, loadStrategy } from './strategy';
export { SampleStrategy, type SampleStrategyParams } from './sample-strategy';
export { SubscriptionMailbox } from './subscriptions';
export { BboTable } from './bbo-table';
