// Feed recovery: gap-filling sequencer, MoldUDP64 retransmission (requester, server, journal), A/B arbitration.
export * from './sequencer';
export * from './message-journal';
export * from './rerequest-server';
export * from './retransmit-requester';
export * from './line-arbiter';
