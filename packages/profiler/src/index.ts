export * from './types.js';
export * from './stats.js';
export * from './ort-profile.js';
export * from './measure.js';
export * from './profiler.js';
export * from './replication.js';
export * from './drift.js';
export { createBackend, type Backend, type TimedSession } from './backends/index.js';
export { setOrtWebAssets } from './backends/web.js';
