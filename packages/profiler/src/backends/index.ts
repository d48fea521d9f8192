import type { RuntimeOptions } from '../types.js';
import type { Backend } from './backend.js';

export type { Backend, TimedSession } from './backend.js';

/** Loads only the runtime asked for: each is a large native or wasm module. */
export async function createBackend(options: RuntimeOptions): Promise<Backend> {
  switch (options.backend) {
    case 'ort-node':
      return new (await import('./node.js')).OrtNodeBackend(options);
    case 'ort-web':
      return (await import('./web.js')).OrtWebBackend.create(options);
    default:
      throw new Error(`backend: unknown '${String(options.backend)}' (ort-node or ort-web)`);
  }
}
