export * from './store.js';
export * from './server.js';
export * from './config.js';
export { DEFAULT_CAMPAIGN_PROTOCOL } from './api.js';
export * from './predictor-store.js';
export * from './predictor-service.js';
export * from './adaptation.js';
export * from './starter-pool.js';
export { buildInWorker, type BuildReport } from './build-worker.js';
