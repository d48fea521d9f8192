export * from './random.js';
export * from './mlp.js';
export * from './adam.js';
