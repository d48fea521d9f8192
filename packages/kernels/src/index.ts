export * from './config.js';
export * from './graph.js';
export * from './registry.js';
export * from './model.js';
export * from './features.js';
export * from './examples.js';
export { ACTIVATIONS, seMidChannels, windowPad, type Activation } from './specs/common.js';
export { CONV_ACTIVATIONS, convTypeName, convTypeParts, foldedConvType } from './specs/conv.js';
export { BINARY_TYPES, BROADCASTS, UNARY_ACTIVATIONS, type BinaryOp } from './specs/elementwise.js';
