// The test exchange (`tickpath venue-sim`, `tickpath/venue-sim`): a price-time matching engine with
// OUCH 4.2/SoupBinTCP and FIX 4.2/4.4 front ends, latency and fault injection. Never on the
// production order path; the router's connectors (lib/router/connectors/) are its clients.
export { MatchingEngine, type EngineOrder, type MatchListener, type EngineSide, type EngineResult } from './matching-engine';
export { VenueSimulator, type VenueSimulatorOptions, type VenueFaults } from './venue-simulator';
export type { VenueFrontEnd, VenueEngine } from './front-end';
export { FixVenueFrontEnd, type FixVenueOptions } from './fix-front-end';
