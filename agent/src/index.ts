export * from './agent.js';
export * from './fingerprint.js';
export * from './state.js';
export { ARCHITECTURE_ROUNDS } from './architectures.js';
