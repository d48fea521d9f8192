// onnxruntime-web, run in Node (wasm) or in a page by the browser agent (wasm, or WebGPU where the
// browser has it). Its thread count is process-wide and fixed at the first session, so one process
// serves one thread count. It has no per-node profile we can read back.
import type { BuiltModel } from '@litepred/kernels';
import type { RuntimeInfo, RuntimeOptions } from '../types.js';
import { InputPool, type Backend, type TimedSession } from './backend.js';

type Ort = typeof import('onnxruntime-web');

let configuredThreads: number | undefined;
let wasmPaths: string | undefined;

/**
 * Where a page finds onnxruntime-web's .wasm and .mjs files (the coordinator serves them itself:
 * no CDN). Set before the first session; Node needs nothing.
 */
export function setOrtWebAssets(prefix: string): void {
  wasmPaths = prefix;
}

export class OrtWebBackend implements Backend {
  readonly info: RuntimeInfo;
  private readonly inputs = new InputPool();
  readonly hasNodeProfile = false;

  private constructor(
    private readonly ort: Ort,
    private readonly options: RuntimeOptions,
  ) {
    const provider = options.executionProvider ?? 'wasm';
    const version = ort.env.versions.web ?? ort.env.versions.common ?? 'unknown';
    const { executionProvider: _, ...rest } = options;
    this.info = { ...rest, backend: 'ort-web', runtimeVersion: version, executionProvider: provider };
  }

  /** WebGPU needs onnxruntime-web's WebGPU build; wasm alone uses the smaller one. Each is loaded only when asked for. */
  static async create(options: RuntimeOptions): Promise<OrtWebBackend> {
    if (configuredThreads !== undefined && configuredThreads !== options.threads) {
      throw new Error(
        `onnxruntime-web is already set to ${configuredThreads} thread(s) in this process; it cannot switch to ${options.threads}`,
      );
    }
    const ort: Ort = options.executionProvider === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web');
    configuredThreads = options.threads;
    ort.env.wasm.numThreads = options.threads;
    if (wasmPaths) ort.env.wasm.wasmPaths = wasmPaths;
    return new OrtWebBackend(ort, options);
  }

  async open(model: BuiltModel): Promise<TimedSession> {
    const { ort } = this;
    const session = await ort.InferenceSession.create(model.bytes, {
      executionProviders: [this.info.executionProvider],
      graphOptimizationLevel: this.options.graphOptimizationLevel,
      // Errors only: the cache-scrub buffer is deliberately an overridable initializer, which ORT warns about.
      logSeverityLevel: 3,
    });
    const arrays = this.inputs.feeds(model.inputs);
    const feeds = Object.fromEntries(model.inputs.map((i) => [i.name, new ort.Tensor('float32', arrays.get(i.name)!, [...i.shape])]));
    return {
      run: async () => {
        await session.run(feeds);
      },
      close: async () => {
        await session.release();
        return null;
      },
    };
  }
}
