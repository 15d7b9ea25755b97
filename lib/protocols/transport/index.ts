export type {
  SessionTransport, TransportEvents, TransportFactory, TransportKind, TransportState, TransportStats, ServerTransport, ServerTransportStats,
} from './session-transport';
export { LibuvTcpTransport } from './libuv-tcp-transport';
export { NativeTcpTransport, nativeTcpBinding, type NativeTcpTransportOptions } from './native-tcp-transport';
export { transportFactory, defaultTransportKind, type TransportChoice, type TransportFactoryOptions } from './create-transport';
export { TransportSocket } from './transport-socket';
export { NativeTcpServer, LibuvTcpServer, NativeWaitSet, serverTransport, type NativeTcpServerOptions } from './tcp-server';
