import type { LogEventDefinition } from '../../../lib/common/logger';

export const TEST_LOG_EVENTS: LogEventDefinition[] = [
  { name: 'test.tick', template: 'seq={0} double={1} neg={2} half={3}' },
  { name: 'feed.gap', template: 'gap on line {0}: expected {1}, got {2}' },
];
