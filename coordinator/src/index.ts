export * from './store.js';
export * from './server.js';
export * from './config.js';
export { DEFAULT_CAMPAIGN_PROTOCOL } from './api.js';
