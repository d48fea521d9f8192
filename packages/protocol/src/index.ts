export * from './errors.js';
export * from './messages.js';
export * from './codec.js';
export * from './http.js';
export * from './http-client.js';
