export { Port, PortOptions, PortStats, BackendName, kBackendNames, kAutoOrder, nativeOptions } from './port';
export { RxConsumer, RxQueueTransfer, PacketHandler } from './rx-consumer';
export { TxProducer, TxQueueTransfer } from './tx-producer';
export { DpdkOptions, dpdkEalArgs, defaultLcores } from './dpdk-args';
export { pinCurrentThread, currentThreadAffinity, setCurrentThreadAffinity, currentTid, cpusAllowedOf, numaNodeOfCpu, warmUpThreadPool } from './threads';
export { binding, setBinding, NativeBinding, addonPath } from './native';
export { kLayout, kQueueCounter, kQueueCounterNames, QueueCounterName } from './layout';
export { nativeError } from './errors';
