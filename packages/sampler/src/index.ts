// The /proc sampler and the bottleneck verdict (see shared/spec/reporter-notes.md §5).
export * from './proc-stat.js';
export * from './pressure.js';
export * from './loadavg.js';
export * from './diskstats.js';
export * from './snapshot.js';
export * from './rates.js';
export * from './sampler.js';
export * from './verdict.js';
export * from './device-of-path.js';
export * from './series-summary.js';
export * from './record.js';
