// Production venue sessions (VenueConnector implementations) and the one factory that builds them
// from a routing-config venue entry. The exchange they are tested against lives in lib/venue-sim/.
export { OuchConnector, type OuchConnectorOptions } from './ouch-connector';
export { FixConnector, type FixConnectorOptions } from './fix-connector';
export { createVenueConnector, type ConnectorExtras } from './create-connector';
