// Where the coordinator finds what it serves: the bundled pages (dist/, made by build.mjs) and
// onnxruntime-web's wasm files. Plain JavaScript, so the coordinator needs no build of this package.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export const webDistDir = fileURLToPath(new URL('./dist', import.meta.url));
export const ortWebDistDir = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
