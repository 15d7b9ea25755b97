/** The paced sender lives in lib/tools (tickpath run feeds its bundled session with it); the benchmarks use the same one. */
export { PacedSender } from '../../lib/tools/paced-sender';
