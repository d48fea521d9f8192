export * from './decompose/graph.js';
export * from './decompose/decompose.js';
export * from './metrics.js';
export * from './mlp-predictor.js';
export * from './onnx-export.js';
export * from './roofline-predictor.js';
export * from './similarity.js';
export * from './model-latency.js';
