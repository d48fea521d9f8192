// The kernel profiler: what one kernel costs inside a network on one runtime configuration.
import { performance } from 'node:perf_hooks';
import { buildKernelModel, buildNullModel, compactConfig, resolveConfig, type BuiltModel, type KernelConfig, type Shape } from '@litepred/kernels';
import { createBackend, type Backend } from './backends/index.js';
import { timeRuns } from './measure.js';
import { splitRun } from './ort-profile.js';
import { percentile, summarize, type Stats } from './stats.js';
import {
  DEFAULT_PROTOCOL, DEFAULT_RUNTIME, type BoundaryCosts, type Measurement, type MeasurementProtocol, type RuntimeInfo, type RuntimeOptions,
} from './types.js';

const median = (xs: readonly number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);

export interface ProfilerOptions {
  runtime?: Partial<RuntimeOptions>;
  protocol?: Partial<MeasurementProtocol>;
  /** Which statistic becomes latencyMs. The IQM averages away the profiler's 1 µs resolution. */
  statistic?: 'median' | 'iqm';
  /**
   * Default: ORT's per-node profile where the backend has one (onnxruntime-node), which times the
   * kernel's own nodes without extra runs; otherwise paired null differencing.
   */
  method?: Measurement['method'];
}

export class KernelProfiler {
  readonly runtime: RuntimeInfo;
  readonly protocol: MeasurementProtocol;
  readonly statistic: 'median' | 'iqm';
  readonly method: Measurement['method'];

  private constructor(private readonly backend: Backend, protocol: MeasurementProtocol, options: ProfilerOptions) {
    this.runtime = backend.info;
    this.protocol = protocol;
    this.statistic = options.statistic ?? 'iqm';
    this.method = options.method ?? (backend.hasNodeProfile ? 'node-profile' : 'paired-null-difference');
    if (this.method === 'node-profile' && !backend.hasNodeProfile) {
      throw new Error(`method: ${backend.info.backend} has no per-node profile; use paired-null-difference`);
    }
  }

  static async create(options: ProfilerOptions = {}): Promise<KernelProfiler> {
    const runtime = { ...DEFAULT_RUNTIME, ...options.runtime };
    if (!Number.isInteger(runtime.threads) || runtime.threads < 1) throw new Error(`threads: must be a positive integer (got ${runtime.threads})`);
    const profiler = new KernelProfiler(await createBackend(runtime), { ...DEFAULT_PROTOCOL, ...options.protocol }, options);
    return profiler;
  }

  /**
   * End-to-end wall time of a whole model as a user would run it (outputs copied out, no
   * profiling): the ground truth that kernel sums are judged against.
   */
  async measureModel(model: BuiltModel): Promise<Stats> {
    const session = await this.backend.open(model, { profileNodes: false });
    try {
      return summarize((await timeRuns(session, this.protocol)).samples);
    } finally {
      await session.close();
    }
  }

  /** What session.run costs with these inputs and no kernel at all (no profiling). */
  async measureRunOverhead(inputShapes: readonly Shape[]): Promise<Stats> {
    return this.measureModel(buildNullModel(inputShapes));
  }

  /** Measures one kernel config; the config is validated first and stored in compact form. */
  async measure(config: KernelConfig): Promise<Measurement> {
    const compact = compactConfig(resolveConfig(config));
    const model = buildKernelModel(compact);
    const t0 = performance.now();
    const byProfile = this.method === 'node-profile';
    const session = await this.backend.open(model, { profileNodes: byProfile });
    const sessionCreateMs = performance.now() - t0;
    // Without a node profile, each kernel run is paired with a run of a model that has the same
    // inputs and no kernel: the difference is what the kernel adds (in-context differencing).
    const baseline = byProfile ? undefined
      : await this.backend.open(buildNullModel(model.inputs.map((i) => i.shape)), { profileNodes: false });
    let runs;
    let profile;
    try {
      runs = await timeRuns(session, this.protocol, baseline);
    } finally {
      profile = await session.close();
      await baseline?.close();
    }
    const wall = summarize(runs.samples);
    let kernelSamples: number[];
    let boundary: BoundaryCosts;
    if (profile) {
      // ORT profiled the warm-up runs too; the timed runs are the last ones.
      const timed = profile.slice(profile.length - runs.samples.length).map(splitRun);
      if (timed.length !== runs.samples.length) throw new Error(`ORT profile has ${profile.length} runs, expected ${runs.warmupRuns + runs.samples.length}`);
      kernelSamples = timed.map((r) => r.kernel);
      boundary = {
        reorderInMs: median(timed.map((r) => r['reorder-in'])),
        reorderOutMs: median(timed.map((r) => r['reorder-out'])),
        sinkMs: median(timed.map((r) => r.sink)),
        runOverheadMs: Math.max(0, wall.median - median(timed.map((r) => r.all))),
      };
    } else {
      const base = runs.baseline!;
      kernelSamples = runs.samples.map((s, i) => s - base[i]!);
      boundary = { reorderInMs: 0, reorderOutMs: 0, sinkMs: 0, runOverheadMs: median(base) };
    }
    const kernel: Stats = summarize(kernelSamples);
    return {
      config: compact,
      latencyMs: kernel[this.statistic],
      statistic: this.statistic,
      kernel,
      wall,
      boundary,
      method: profile ? 'node-profile' : 'paired-null-difference',
      warmupRuns: runs.warmupRuns,
      converged: runs.converged,
      sessionCreateMs,
      runtime: this.runtime,
      measuredAt: new Date().toISOString(),
    };
  }
}
