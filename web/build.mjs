#!/usr/bin/env node
// Bundles the browser agent and the dashboard with esbuild into dist/, with the HTML and CSS beside
// them. onnxruntime-web is bundled in its "extern wasm" form: its .wasm and .mjs files stay
// separate, and the coordinator serves them from /ort/ (no CDN).
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const dist = here('./dist');
const watch = process.argv.includes('--watch');

/** The profiler loads onnxruntime-node only for backend ort-node; a page gets a stub that says why not. */
const noNodeRuntime = {
  name: 'no-onnxruntime-node',
  setup(b) {
    b.onResolve({ filter: /^\.\/node\.js$/ }, (args) =>
      /profiler[\\/](dist|src)[\\/]backends/.test(args.importer) ? { path: 'ort-node', namespace: 'stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents:
        "export class OrtNodeBackend { constructor() { throw new Error('backend ort-node: onnxruntime-node does not run " +
        "in a browser; use ort-web'); } }",
      loader: 'js',
    }));
  },
};

/**
 * onnxruntime-web's main entry is its JSEP build (wasm + WebGPU/WebNN bridges); for the wasm
 * execution provider the page loads the plain wasm build instead, the one onnxruntime-web runs on
 * in Node, so a browser and a Node measurement differ by the JS engine, not the binary.
 * ('onnxruntime-web/webgpu' is left alone: WebGPU needs its own build.)
 */
const plainWasmBuild = {
  name: 'onnxruntime-web-plain-wasm',
  setup(b) {
    b.onResolve({ filter: /^onnxruntime-web$/ }, (args) =>
      b.resolve('onnxruntime-web/wasm', { kind: args.kind, resolveDir: args.resolveDir }),
    );
  },
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(here('./public'), dist, { recursive: true });
const started = Date.now();
await build({
  entryPoints: { agent: here('./src/agent/main.ts'), dashboard: here('./src/dashboard/main.ts') },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  conditions: ['onnxruntime-web-use-extern-wasm'],
  minify: !watch,
  sourcemap: true,
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
  // protobufjs probes for Node's modules inside try/catch; they are never reached in a page.
  external: ['node:*'],
  plugins: [noNodeRuntime, plainWasmBuild],
});
console.error(`web: bundled agent and dashboard into ${dist} in ${Date.now() - started} ms`);
