export type { SessionTransport, TransportEvents, TransportFactory, TransportKind, TransportState, TransportStats } from './session-transport';
export { LibuvTcpTransport } from './libuv-tcp-transport';
export { NativeTcpTransport, nativeTcpBinding, type NativeTcpTransportOptions } from './native-tcp-transport';
export { transportFactory, defaultTransportKind, type TransportChoice } from './create-transport';
export { TransportSocket } from './transport-socket';
