export * from './families.js';
export * from './dataset.js';
export * from './scaling.js';
export * from './vae.js';
export * from './prior.js';
export * from './samplers.js';
export * from './divergence.js';
export * from './train.js';
