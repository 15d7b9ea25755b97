// Loading and validating configs/feed_config.yml and configs/performance.yml; checking all three config files.
import * as path from 'node:path';
import { loadFeedConfig, type FeedConfig, type FeedConfigLoadOptions } from './feed-config';
import { loadPerformanceConfig, type PerformanceConfig, type PerformanceConfigLoadOptions } from './performance-config';

export * from './feed-config';
export * from './performance-config';
export { ConfigReader, ConfigError, type ConfigProblem, type ConfigErrorCode } from './config-reader';
export { checkConfigDir, formatCheck, kConfigFiles, type ConfigCheckResult } from './check';
export { portOptionsFrom } from './port-options';

export const kDefaultFeedConfigFile = 'feed_config.yml';
export const kDefaultPerformanceConfigFile = 'performance.yml';

/** Loads both files from `dir` (default ./configs). */
export function loadConfigs(
  dir = 'configs',
  options: FeedConfigLoadOptions & PerformanceConfigLoadOptions = {},
): { feed: FeedConfig; performance: PerformanceConfig } {
  return {
    feed: loadFeedConfig(path.join(dir, kDefaultFeedConfigFile), options),
    performance: loadPerformanceConfig(path.join(dir, kDefaultPerformanceConfigFile), options),
  };
}
