export * from './config.js';
export * from './graph.js';
export * from './registry.js';
export * from './model.js';
export * from './features.js';
export * from './examples.js';
