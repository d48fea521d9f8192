export * from './rng.js';
export * from './stack.js';
export * from './space.js';
export * from './registry.js';
export * from './distribution.js';
export * from './networks.js';
