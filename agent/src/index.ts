export * from './agent.js';
export * from './fingerprint.js';
export * from './state.js';
export { ARCHITECTURE_ROUNDS } from '@litepred/agent-core';
export * from './run.js';
export * from './throttle.js';
