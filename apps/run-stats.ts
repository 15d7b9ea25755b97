/** Shared-memory stats layout between `tickpath run` and its decoder worker (Float64 slots). */
export const kStatPackets = 0, kStatBytes = 1, kStatMessages = 2, kStatBadFrames = 3, kStatAddOrders = 4, kStatDone = 5;
export const kStatCount = 8;
