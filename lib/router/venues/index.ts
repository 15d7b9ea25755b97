// Venue sessions (VenueConnector implementations) and the venue simulator.
export { OuchConnector, type OuchConnectorOptions } from './ouch-connector';
export { MatchingEngine, type EngineOrder, type MatchListener, type EngineSide, type EngineResult } from './matching-engine';
export { VenueSimulator, type VenueSimulatorOptions, type VenueFaults, type VenueFrontEnd } from './venue-simulator';
export { FixConnector, type FixConnectorOptions } from './fix-connector';
export { FixSession, type FixSessionOptions, type FixApplication, type FixSessionState } from './fix-session';
export { FixFileStore } from './fix-store';
export { FixVenueFrontEnd, type FixVenueOptions } from './fix-venue-front-end';
export { createVenueConnector, type ConnectorExtras } from './create-connector';
