// onnxruntime-web's wasm backend, run in Node (the browser agent runs the same backend in a page).
// Its thread count is process-wide and fixed at the first session, so one process serves one
// thread count. It has no per-node profile we can read back.
import * as ort from 'onnxruntime-web';
import type { BuiltModel } from '@litepred/kernels';
import type { RuntimeInfo, RuntimeOptions } from '../types.js';
import { inputData, type Backend, type TimedSession } from './backend.js';

const version: string = ort.env.versions.web ?? ort.env.versions.common ?? 'unknown';

let configuredThreads: number | undefined;

export class OrtWebBackend implements Backend {
  readonly info: RuntimeInfo;
  readonly hasNodeProfile = false;

  constructor(private readonly options: RuntimeOptions) {
    if (configuredThreads !== undefined && configuredThreads !== options.threads) {
      throw new Error(`onnxruntime-web is already set to ${configuredThreads} thread(s) in this process; it cannot switch to ${options.threads}`);
    }
    configuredThreads = options.threads;
    ort.env.wasm.numThreads = options.threads;
    this.info = { ...options, backend: 'ort-web', runtimeVersion: version, executionProvider: 'wasm' };
  }

  async open(model: BuiltModel): Promise<TimedSession> {
    const session = await ort.InferenceSession.create(model.bytes, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: this.options.graphOptimizationLevel,
      // Errors only: the cache-scrub buffer is deliberately an overridable initializer, which ORT warns about.
      logSeverityLevel: 3,
    });
    const feeds = Object.fromEntries(model.inputs.map((i) => [i.name, new ort.Tensor('float32', inputData(i.shape), [...i.shape])]));
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
