// The kernel profiler: what one kernel costs inside a network on one runtime configuration.
import {
  buildKernelModel,
  buildNullModel,
  buildTrivialChainModel,
  compactConfig,
  kernelCost,
  resolveConfig,
  type BuiltModel,
  type KernelConfig,
  type Shape,
} from '@litepred/kernels';
import { createBackend, type Backend } from './backends/index.js';
import { timeRuns, warmUp } from './measure.js';
import { nodeRole, reordersInsideKernel, splitRun } from './ort-profile.js';
import { median, summarize, type Statistic, type Stats } from './stats.js';
import { bytesPerCopy, copiesFor, perCopy, REPLICATION_SPAN_MS } from './replication.js';
import {
  DEFAULT_PROTOCOL,
  DEFAULT_RUNTIME,
  DEFAULT_STATISTIC,
  type BoundaryCosts,
  type Measurement,
  type MeasurementProtocol,
  type RuntimeInfo,
  type RuntimeOptions,
} from './types.js';

export interface ProfilerOptions {
  runtime?: Partial<RuntimeOptions>;
  protocol?: Partial<MeasurementProtocol>;
  /** Which statistic of the per-run kernel times becomes latencyMs (default: median). */
  statistic?: Statistic;
  /**
   * Default: ORT's per-node profile where the backend has one (onnxruntime-node), which times the
   * kernel's own nodes without extra runs; otherwise paired null differencing.
   */
  method?: Measurement['method'];
  /** Skip the cold-weight calibration and use this cost per weight byte (ms); 0 turns the term off. */
  coldWeightMsPerByte?: number;
  /**
   * Skip the speed calibration and take this many FLOPs per ms as the device's convolution speed
   * (what measure() estimates a kernel's single run from, to refuse one that would outlast the
   * task); Infinity turns the refusal off.
   */
  flopsPerMs?: number;
  /**
   * A kernel faster than this (ms) is measured again as copies of itself in one model, enough
   * copies to span it, and labelled per copy: near the timer's 1 µs step a single kernel's time
   * has no relative precision. Default REPLICATION_SPAN_MS (100 steps); 0 turns it off.
   */
  replicationSpanMs?: number;
}

/** Paired runs of the estimate that decides whether a kernel is replicated. */
const QUICK_RUNS = 10;

/**
 * Kernel statistics from paired runs: each location statistic is the kernel series' minus the null
 * series' (the minimum of per-pair differences would pick a lucky kernel run against an unlucky
 * null run); the spread is the per-pair differences' own.
 */
function differenceStats(kernelWall: Stats, nullWall: Stats, differences: readonly number[]): Stats {
  const d = summarize(differences);
  const minus = (k: keyof Stats) => kernelWall[k] - nullWall[k];
  return {
    n: d.n,
    std: d.std,
    median: minus('median'),
    p10: minus('p10'),
    p90: minus('p90'),
    min: minus('min'),
    max: minus('max'),
    mean: minus('mean'),
    iqm: minus('iqm'),
    q1mean: minus('q1mean'),
  };
}

/** ORT's per-node profile records durations in whole microseconds. */
const ORT_PROFILE_STEP_MS = 0.001;

/** Weight-heavy and compute-light: 5.3 MB of weights on a 4x4 input (a late ResNet stage). */
const COLD_REFERENCE: KernelConfig = { type: 'conv-bn', HW: 4, CIN: 384, COUT: 384, KERNEL_SIZE: 3, STRIDES: 1 };
/** 116 MFLOPs, a few ms on a phone core: the device's sustained convolution speed. */
const SPEED_REFERENCE: KernelConfig = { type: 'conv-bn-relu', HW: 28, CIN: 64, COUT: 64, KERNEL_SIZE: 3, STRIDES: 1 };
/** How much faster than the speed reference any kernel may run (FLOPs per ms). */
const SPEED_MARGIN = 4;

/** A kernel that would run longer than its task may: refused before it is built. */
export class KernelBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelBudgetError';
  }
}

/** Larger than the last-level cache share a core gets on the boards and VMs we target. */
const SCRUB_BYTES = 64 * 2 ** 20;

export class KernelProfiler {
  readonly runtime: RuntimeInfo;
  readonly protocol: MeasurementProtocol;
  readonly statistic: Statistic;
  readonly method: Measurement['method'];
  readonly replicationSpanMs: number;
  /** What ORT's profiler adds to each node's duration on this device (µs); see calibrateNodeOverhead. */
  nodeOverheadUs = 0;
  /** Extra time per weight byte when weights come from memory, as inside a network (ms/byte). */
  coldWeightMsPerByte = 0;
  /** The device's speed on a mid-sized convolution (FLOPs per ms): single runs are estimated from it. */
  flopsPerMs = Infinity;

  private constructor(
    private readonly backend: Backend,
    protocol: MeasurementProtocol,
    options: ProfilerOptions,
  ) {
    this.runtime = backend.info;
    this.protocol = protocol;
    this.statistic = options.statistic ?? DEFAULT_STATISTIC;
    this.replicationSpanMs = options.replicationSpanMs ?? REPLICATION_SPAN_MS;
    this.method = options.method ?? (backend.hasNodeProfile ? 'node-profile' : 'paired-null-difference');
    if (this.method === 'node-profile' && !backend.hasNodeProfile) {
      throw new Error(`method: ${backend.info.backend} has no per-node profile; use paired-null-difference`);
    }
  }

  static async create(options: ProfilerOptions = {}): Promise<KernelProfiler> {
    const runtime = { ...DEFAULT_RUNTIME, ...options.runtime };
    if (!Number.isInteger(runtime.threads) || runtime.threads < 1)
      throw new Error(`threads: must be a positive integer (got ${runtime.threads})`);
    const profiler = new KernelProfiler(await createBackend(runtime), { ...DEFAULT_PROTOCOL, ...options.protocol }, options);
    if (profiler.method === 'node-profile') profiler.nodeOverheadUs = await profiler.calibrateNodeOverhead();
    profiler.coldWeightMsPerByte = options.coldWeightMsPerByte ?? (await profiler.calibrateColdWeights());
    profiler.flopsPerMs = options.flopsPerMs ?? (await profiler.calibrateSpeed());
    return profiler;
  }

  /**
   * ORT's per-node profile adds a fixed cost to every node's duration (2.75–5.49 µs across our runs
   * on a KVM guest, where a one-element Relu takes 0.14 µs unprofiled): measured as the profiled duration per node
   * of a chain of trivial nodes minus the unprofiled wall-time slope of the same chain.
   */
  private async calibrateNodeOverhead(): Promise<number> {
    const long = 41;
    const protocol = { ...this.protocol, minRuns: 200, maxRuns: 400, targetPrecision: 0.005 };
    const wall = async (length: number) => {
      const session = await this.backend.open(buildTrivialChainModel(length), { profileNodes: false });
      try {
        return median((await timeRuns(session, protocol)).samples);
      } finally {
        await session.close();
      }
    };
    const slopeUs = (((await wall(long)) - (await wall(1))) / (long - 1)) * 1000;
    const session = await this.backend.open(buildTrivialChainModel(long), { profileNodes: true });
    const runs = await timeRuns(session, protocol);
    const profile = (await session.close())!.slice(-runs.samples.length);
    const profiledUs = median(profile.map((r) => r.nodes.filter((n) => nodeRole(n) === 'kernel').reduce((s, n) => s + n.us, 0) / long));
    return Math.max(0, profiledUs - Math.max(0, slopeUs));
  }

  /**
   * End-to-end wall time of a whole model as a user would run it (outputs copied out, no
   * profiling): the ground truth that kernel sums are judged against.
   */
  async measureModel(model: BuiltModel, protocol?: Partial<MeasurementProtocol>): Promise<Stats> {
    const session = await this.openModel(model);
    try {
      return await session.time(protocol);
    } finally {
      await session.close();
    }
  }

  /** A whole model kept open, to be timed several times (in rounds interleaved with other models). */
  async openModel(model: BuiltModel): Promise<{ time(protocol?: Partial<MeasurementProtocol>): Promise<Stats>; close(): Promise<void> }> {
    const session = await this.backend.open(model, { profileNodes: false });
    return {
      time: async (protocol) => summarize((await timeRuns(session, protocol ? { ...this.protocol, ...protocol } : this.protocol)).samples),
      close: async () => void (await session.close()),
    };
  }

  /**
   * Whole models timed end to end in `rounds` short rounds interleaved across them, every session
   * kept open (creating one costs far more than timing it): a burst of load on a shared machine
   * then slows one round of a model rather than all of its runs, and the fastest round's median
   * drops it. A model that cannot be built or opened gets its error; the others are still timed.
   * Each round: up to 3 warm-up runs and 10 timed runs (fewer if the protocol asks for fewer).
   */
  async timeInRounds(
    models: readonly (() => BuiltModel)[],
    rounds: number,
    protocol: Partial<MeasurementProtocol> = {},
  ): Promise<({ roundMedians: number[]; sessionCreateMs: number } | { error: Error })[]> {
    const p = { ...this.protocol, ...protocol };
    const runs = Math.min(10, p.minRuns);
    const round = { warmupRuns: Math.min(3, p.warmupRuns), warmupMs: 0, minRuns: runs, maxRuns: runs, maxMs: p.maxMs };
    type Open = { session: Awaited<ReturnType<KernelProfiler['openModel']>>; sessionCreateMs: number; roundMedians: number[] };
    const open: (Open | { error: Error })[] = [];
    for (const build of models) {
      try {
        const model = build();
        const t0 = performance.now();
        const session = await this.openModel(model);
        open.push({ session, sessionCreateMs: performance.now() - t0, roundMedians: [] });
      } catch (error) {
        open.push({ error: error as Error });
      }
    }
    try {
      for (let r = 0; r < rounds; r++) {
        for (const m of open) if ('session' in m) m.roundMedians.push((await m.session.time(round)).median);
      }
    } finally {
      for (const m of open) if ('session' in m) await m.session.close();
    }
    return open.map((m) => ('error' in m ? m : { roundMedians: m.roundMedians, sessionCreateMs: m.sessionCreateMs }));
  }

  /** What session.run costs with these inputs and no kernel at all (no profiling). */
  async measureRunOverhead(inputShapes: readonly Shape[]): Promise<Stats> {
    return this.measureModel(buildNullModel(inputShapes));
  }

  /**
   * What one extra byte of weights costs when it has to come from memory rather than cache, as it
   * does inside a network (the rest of the network evicts a kernel's weights between two runs,
   * while a standalone kernel's repeated runs keep them hot): a weight-heavy reference kernel timed
   * hot and after a cache scrub. Near zero where compute hides the traffic.
   */
  private async calibrateColdWeights(): Promise<number> {
    const weightBytes = 4 * kernelCost(COLD_REFERENCE).params;
    const protocol = { ...this.protocol, minRuns: 40, maxRuns: 200 };
    const hot = (await this.measureStandalone(COLD_REFERENCE, 0, protocol)).kernel.median;
    const cold = (await this.measureStandalone(COLD_REFERENCE, SCRUB_BYTES, protocol)).kernel.median;
    return Math.max(0, cold - hot) / weightBytes;
  }

  /**
   * FLOPs per ms of a convolution big enough to run at the device's sustained speed and small
   * enough to time in a few ms. Kernels run at most a few times faster than it (a 1x1 conv with
   * many channels), so SPEED_MARGIN times it bounds any kernel's speed from above.
   */
  private async calibrateSpeed(): Promise<number> {
    const m = await this.measureStandalone(SPEED_REFERENCE, 0, { ...this.protocol, minRuns: 10, maxRuns: 50 });
    return kernelCost(SPEED_REFERENCE).flops / Math.max(1e-6, m.kernel.median);
  }

  /**
   * Refuses a kernel whose single run would take longer than the task may (maxMs): estimated from
   * its FLOPs at SPEED_MARGIN times the device's calibrated speed, so a kernel that fits is never
   * refused, and before its model is built (a 542-GMAC convolution once held an agent for minutes).
   */
  private checkBudget(config: KernelConfig, protocol: MeasurementProtocol): void {
    const flops = kernelCost(config).flops;
    const estimateMs = flops / (SPEED_MARGIN * this.flopsPerMs);
    if (estimateMs > protocol.maxMs) {
      throw new KernelBudgetError(
        `${config.type}: ${(flops / 1e9).toFixed(1)} GFLOPs take at least ${(estimateMs / 1000).toFixed(1)} s a run on this device ` +
          `(${(this.flopsPerMs / 1e6).toFixed(1)} GFLOP/s), over the task's budget of ${protocol.maxMs} ms (maxMs)`,
      );
    }
  }

  /**
   * Measures one kernel config: what it contributes inside a network. The config is validated
   * first and stored in compact form. `protocol` overrides the profiler's for this call (a
   * campaign carries its own).
   */
  async measure(config: KernelConfig, protocol?: Partial<MeasurementProtocol>): Promise<Measurement> {
    const p = protocol ? { ...this.protocol, ...protocol } : this.protocol;
    const compact = compactConfig(resolveConfig(config));
    this.checkBudget(compact, p);
    // A kernel near the timer's resolution is timed as copies of itself, end to end against a null
    // model with the same inputs, per copy. ORT's node profile adds ~5 µs of its own to every node
    // and labels such kernels 0 (a relu over 3,136 values: 0.00 µs profiled, 0.43-0.46 µs this way).
    // A quick paired estimate first says which kernels those are, so they skip the profiled session.
    const own = bytesPerCopy(compact);
    let copies = 1;
    let m: Measurement | undefined;
    if (this.replicationSpanMs > 0) {
      copies = copiesFor(await this.quickEstimate(compact, p), this.replicationSpanMs, own);
      if (copies === 1) m = await this.measureStandalone(compact, 0, p, 1, this.method, true);
    } else {
      m = await this.measureStandalone(compact, 0, p);
    }
    // The estimate said it spans the target and the measurement says it does not: replicate after all.
    if (m && this.replicationSpanMs > 0) copies = copiesFor(m.kernel.median, this.replicationSpanMs, own);
    if (copies > 1) m = await this.measureStandalone(compact, 0, p, copies, 'paired-null-difference', this.replicationSpanMs > 0);
    if (!m) throw new Error('unreachable: no measurement');
    const coldWeightsMs = this.coldWeightMsPerByte * 4 * kernelCost(m.config).params;
    m.boundary.coldWeightsMs = coldWeightsMs;
    // A kernel that adds next to nothing can come out a hair below zero as a difference of two noisy
    // timings; a latency label is never negative. The raw statistics keep their sign.
    m.latencyMs = Math.max(0, m.kernel[this.statistic]) + coldWeightsMs;
    return m;
  }

  private lastBuilt: { key: string; model: BuiltModel } | undefined;

  /**
   * A kernel's model, built once for its estimate and its timed session (building is deterministic;
   * generating multi-megabyte weights twice cost a few % of a collection's wall time).
   */
  private build(config: KernelConfig, scrubBytes: number, copies: number): BuiltModel {
    const key = JSON.stringify([config, scrubBytes, copies]);
    if (this.lastBuilt?.key !== key) this.lastBuilt = { key, model: buildKernelModel(config, { scrubBytes, copies }) };
    return this.lastBuilt.model;
  }

  /** The kernel timed on its own (weights hot unless scrubBytes evicts them before every run). */
  /**
   * A kernel's time from a few plain runs paired with runs of a null model with the same inputs,
   * after the protocol's warm-up time (which a measurement right after it needs no more): enough to
   * tell a kernel under the replication span from one over it.
   */
  private async quickEstimate(config: KernelConfig, protocol: MeasurementProtocol): Promise<number> {
    const model = this.build(compactConfig(resolveConfig(config)), 0, 1);
    const session = await this.backend.open(model, { profileNodes: false });
    const baseline = await this.backend.open(
      buildNullModel(
        model.inputs.map((i) => i.shape),
        { sinks: model.sinks, flatten: model.flatSinks },
      ),
      { profileNodes: false },
    );
    try {
      const runs = await timeRuns(
        session,
        { ...protocol, warmupRuns: 1, minRuns: QUICK_RUNS, maxRuns: QUICK_RUNS, maxMs: protocol.maxMs / 4 },
        baseline,
      );
      return Math.max(0, median(runs.samples) - median(runs.baseline!));
    } finally {
      await session.close();
      await baseline.close();
    }
  }

  private async measureStandalone(
    config: KernelConfig,
    scrubBytes: number,
    protocol: MeasurementProtocol,
    copies = 1,
    method: Measurement['method'] = this.method,
    warm = false,
  ): Promise<Measurement> {
    const compact = compactConfig(resolveConfig(config));
    const model = this.build(compact, scrubBytes, copies);
    const byProfile = method === 'node-profile';
    // ORT profiles every run of a profiling session, warm-up too, and for a small kernel a profiled
    // run costs twice a plain one and its profile more than the run: the protocol's warm-up *time*
    // (20 ms: hundreds of runs of a small kernel) goes to a plain session of the same model, as
    // clocks and caches carry over; its warm-up *count* runs on the profiling session itself (its
    // own arena and first-run work).
    let plainWarmupRuns = 0;
    if (byProfile && protocol.warmupMs > 0 && !warm) {
      const plain = await this.backend.open(model, { profileNodes: false });
      try {
        plainWarmupRuns = await warmUp(plain, { ...protocol, warmupRuns: 1 });
      } finally {
        await plain.close();
      }
    }
    const t0 = performance.now();
    const session = await this.backend.open(model, { profileNodes: byProfile });
    const sessionCreateMs = performance.now() - t0;
    // Without a node profile, each kernel run is paired with a run of a model that has the same
    // inputs (and scrub) and no kernel: the difference is what the kernel adds.
    const baseline = byProfile
      ? undefined
      : await this.backend.open(
          buildNullModel(
            model.inputs.map((i) => i.shape),
            { scrubBytes, sinks: model.sinks, flatten: model.flatSinks },
          ),
          { profileNodes: false },
        );
    let runs;
    let profile;
    try {
      // After the plain warm-up (or the quick estimate, `warm`), the warm-up count alone: clocks and caches carry over.
      runs = await timeRuns(session, byProfile || warm ? { ...protocol, warmupMs: 0 } : protocol, baseline);
    } finally {
      profile = await session.close();
      await baseline?.close();
    }
    const wall = summarize(runs.samples);
    let kernelSamples: number[];
    let boundary: BoundaryCosts;
    if (profile) {
      // ORT profiled the warm-up runs too; the timed runs are the last ones.
      const timedRuns = profile.slice(profile.length - runs.samples.length);
      if (timedRuns.length !== runs.samples.length)
        throw new Error(`ORT profile has ${profile.length} runs, expected ${runs.warmupRuns + runs.samples.length}`);
      const timed = timedRuns.map((r) => splitRun(r, this.nodeOverheadUs));
      const inside = timedRuns.filter(reordersInsideKernel).length > timedRuns.length / 2;
      kernelSamples = timed.map((r) => (r.kernel + (inside ? r['reorder-in'] + r['reorder-out'] : 0)) / copies);
      boundary = {
        reorderInMs: inside ? 0 : median(timed.map((r) => r['reorder-in'])),
        reorderOutMs: inside ? 0 : median(timed.map((r) => r['reorder-out'])),
        sinkMs: median(timed.map((r) => r.sink)),
        runOverheadMs: Math.max(0, wall.median - median(timed.map((r) => r.all + r.scrub))),
        coldWeightsMs: 0,
      };
    } else {
      const base = runs.baseline!;
      kernelSamples = runs.samples.map((s, i) => s - base[i]!);
      boundary = { reorderInMs: 0, reorderOutMs: 0, sinkMs: 0, runOverheadMs: median(base), coldWeightsMs: 0 };
    }
    const kernel: Stats = profile
      ? summarize(kernelSamples, ORT_PROFILE_STEP_MS / copies)
      : perCopy(differenceStats(summarize(runs.samples), summarize(runs.baseline!), kernelSamples), copies);
    return {
      config: compact,
      latencyMs: kernel[this.statistic],
      statistic: this.statistic,
      kernel,
      wall,
      boundary,
      profileNodeOverheadUs: profile ? this.nodeOverheadUs : undefined,
      method: profile ? 'node-profile' : 'paired-null-difference',
      warmupRuns: plainWarmupRuns + runs.warmupRuns,
      converged: runs.converged,
      sessionCreateMs,
      runtime: this.runtime,
      measuredAt: new Date().toISOString(),
      ...(copies > 1 ? { copies } : {}),
    };
  }
}
