// Public surface of the order router. The venue connectors (lib/router/venues/) export their own.
export * from './types';
export type { Side, TimeInForce, OrdType, VenueOrder, VenueListener, VenueConnector, SessionState } from './venue';
export { RiskChecker, validateRiskLimits } from './risk-checker';
export type { RiskLimits, OpenOrderSource } from './risk-checker';
export { OrderManager, OmResult } from './order-manager';
export type { OrderManagerOptions } from './order-manager';
export { OrderJournal, JournalRecordType, RECORD_SIZE } from './journal';
export type { FsyncPolicy, JournalOptions, JournalOrder, JournalRecovery } from './journal';
export { SmartRouter } from './smart-router';
export type { RouteRule, RoutingMode, SmartRouterOptions } from './smart-router';
export { OrderRouter } from './order-router';
export type { OrderRouterOptions } from './order-router';
export { loadRoutingConfig, parseRoutingConfig } from './config';
export type { RoutingConfig, VenueConfig } from './config';
export { createOrderRouter } from './create-router';
export type { RouterDependencies, RouterStack } from './create-router';
export { execIdKey } from './journal';
