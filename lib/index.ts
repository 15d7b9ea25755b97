// tickpath public API. Each area re-exports its own surface; see docs/ARCHITECTURE.md.
export { TickpathError } from './errors';
