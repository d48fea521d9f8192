export * from './session.js';
export { ARCHITECTURE_ROUNDS, measureArchitectures } from './architectures.js';
