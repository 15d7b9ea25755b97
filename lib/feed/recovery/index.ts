// Feed recovery: MoldUDP64 sequencing, the gap-filling recovery sequencer, retransmission
// (requester, re-request server, message journal) and A/B line arbitration.
export * from './sequencer';
export * from './recovery-sequencer';
export * from './message-journal';
export * from './rerequest-server';
export * from './retransmit-requester';
export * from './line-arbiter';
