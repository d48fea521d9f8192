export * from './agent.js';
export * from './fingerprint.js';
export * from './state.js';
