export * from './decompose/graph.js';
export * from './decompose/decompose.js';
