// onnxruntime-node (CPU execution provider). Per-node timings come from ORT's own profiler,
// which writes a JSON trace when the session ends.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { BuiltModel } from '@litepred/kernels';
import type { RuntimeInfo, RuntimeOptions } from '../types.js';
import { parseOrtProfile, readOrtTraceEvents, type RunProfile } from '../ort-profile.js';
import { InputPool, type Backend, type TimedSession } from './backend.js';

const require = createRequire(import.meta.url);
const version: string = require('onnxruntime-node/package.json').version;

let profileDir: string | undefined;
let profileCounter = 0;

function readProfile(prefix: string): RunProfile[] {
  const dir = profileDir!;
  const base = prefix.slice(dir.length + 1);
  const files = readdirSync(dir).filter((f) => f.startsWith(`${base}_`) && f.endsWith('.json'));
  if (files.length !== 1) throw new Error(`expected one ORT profile for ${base}, found ${files.length}`);
  const path = join(dir, files[0]!);
  try {
    return parseOrtProfile(readOrtTraceEvents(readFileSync(path, 'utf8')));
  } finally {
    rmSync(path, { force: true });
  }
}

export class OrtNodeBackend implements Backend {
  readonly info: RuntimeInfo;
  private readonly inputs = new InputPool();
  readonly hasNodeProfile = true;

  constructor(private readonly options: RuntimeOptions) {
    this.info = { ...options, backend: 'ort-node', runtimeVersion: version, executionProvider: 'cpu' };
  }

  async open(model: BuiltModel, { profileNodes }: { profileNodes: boolean }): Promise<TimedSession> {
    profileDir ??= mkdtempSync(join(tmpdir(), 'litepred-ortprof-'));
    const prefix = join(profileDir, `p${process.pid}_${profileCounter++}`);
    const session = await ort.InferenceSession.create(model.bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: this.options.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: this.options.graphOptimizationLevel,
      // Errors only: the cache-scrub buffer is deliberately an overridable initializer, which ORT warns about.
      logSeverityLevel: 3,
      enableProfiling: profileNodes,
      profileFilePrefix: profileNodes ? prefix : undefined,
    });
    const arrays = this.inputs.feeds(model.inputs);
    const feeds = Object.fromEntries(model.inputs.map((i) => [i.name, new ort.Tensor('float32', arrays.get(i.name)!, [...i.shape])]));
    return {
      run: async () => {
        await session.run(feeds);
      },
      close: async () => {
        if (profileNodes) session.endProfiling();
        await session.release();
        return profileNodes ? readProfile(prefix) : null;
      },
    };
  }
}
