// What a measurement is: the runtime it was taken on, the protocol, and the numbers.
import type { KernelConfig } from '@litepred/kernels';
import type { Statistic, Stats } from './stats.js';

export type BackendName = 'ort-node' | 'ort-web';
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** The runtime options that define what a measurement means; part of every measurement. */
export interface RuntimeOptions {
  backend: BackendName;
  threads: number;
  graphOptimizationLevel: GraphOptimizationLevel;
  /** onnxruntime-web only: wasm (the default) or webgpu (browsers that have it). */
  executionProvider?: 'wasm' | 'webgpu';
}

export interface RuntimeInfo extends Omit<RuntimeOptions, 'executionProvider'> {
  /** onnxruntime-node or onnxruntime-web package version. */
  runtimeVersion: string;
  executionProvider: string;
}

export interface MeasurementProtocol {
  /** Warm-up: at least this many runs and at least this long. */
  warmupRuns: number;
  warmupMs: number;
  /** Timed runs: at least minRuns; stop once the median's ~95% CI half-width is within targetPrecision of it. */
  minRuns: number;
  maxRuns: number;
  /** Time cap on the timed runs of one kernel. */
  maxMs: number;
  targetPrecision: number;
  /**
   * Measurements of each kernel, in rounds interleaved across the kernels measured together
   * (measureWithDriftChecks: a drift window, an agent's lease); the fastest round is kept. A burst
   * of load on a shared machine then spoils one round of a kernel, not its label. 1: one measurement.
   */
  rounds?: number;
}

export const DEFAULT_PROTOCOL: MeasurementProtocol = {
  warmupRuns: 10,
  warmupMs: 20,
  minRuns: 30,
  maxRuns: 1000,
  maxMs: 2000,
  targetPrecision: 0.02,
  rounds: 1,
};

/**
 * The median: sums of per-kernel medians track whole-network medians, while minima (the most
 * repeatable statistic on a shared host) do not add up (docs/benchmarks/timing.md, sections 1 and 4).
 */
export const DEFAULT_STATISTIC: Statistic = 'median';

export const DEFAULT_RUNTIME: RuntimeOptions = { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' };

/**
 * Costs a standalone kernel model pays that a kernel inside a network does not (or pays once per
 * network): a model-level prediction adds them back where they really occur.
 */
export interface BoundaryCosts {
  /** NCHWc ReorderInput nodes ORT adds where a standalone model's input enters (ms, median). */
  reorderInMs: number;
  /** NCHWc ReorderOutput nodes at the model's output (ms, median). */
  reorderOutMs: number;
  /** The output sink (Slice to one element) we append to avoid copying the activation out. */
  sinkMs: number;
  /** session.run wall time not spent in the kernel: binding, input copy, executor (ms, median). */
  runOverheadMs: number;
  /**
   * Inside a network the rest of the network evicts this kernel's weights between two of its runs;
   * a standalone kernel's weights stay hot. Weight bytes × the device's calibrated cold-weight cost
   * per byte. Included in latencyMs, not in the `kernel` statistics (which are hot).
   */
  coldWeightsMs: number;
}

export interface DriftInfo {
  /** Reference kernel latency at the checks before and after this measurement, over its baseline. */
  ratioBefore: number;
  ratioAfter: number;
  flagged: boolean;
}

/**
 * The device's clock and temperature around a measurement, where its OS shows them (Linux
 * cpufreq and thermal zones on a board): a CPU below its maximum clock after a lease, or a
 * thermal zone past its passive trip point, flags the measurement as taken while throttled.
 */
export interface ThrottleInfo {
  /** The lowest current/maximum clock ratio over the CPUs, read right after the lease's kernels. */
  minFreqRatio?: number;
  /** The hottest thermal zone (°C), and whether one was at or past its passive trip point. */
  maxTempC?: number;
  flagged: boolean;
}

export interface Measurement {
  config: KernelConfig;
  /** The kernel's latency inside a network (ms): the chosen statistic of `kernel` + boundary.coldWeightsMs. */
  latencyMs: number;
  statistic: Statistic;
  /** Per-run in-model kernel time (ms). */
  kernel: Stats;
  /** Per-run session.run wall time of the standalone sink model (ms). */
  wall: Stats;
  boundary: BoundaryCosts;
  /**
   * How the kernel time was derived: ORT's per-node profile (kernel nodes only), or the paired
   * difference between the kernel model and a null model with the same inputs.
   */
  method: 'node-profile' | 'paired-null-difference';
  /** With node-profile: the calibrated per-node profiler cost taken off every node (µs). */
  profileNodeOverheadUs?: number;
  warmupRuns: number;
  converged: boolean;
  sessionCreateMs: number;
  runtime: RuntimeInfo;
  measuredAt: string;
  drift?: DriftInfo;
  throttle?: ThrottleInfo;
  /** With protocol.rounds > 1: latencyMs of every round, in order; this measurement is the fastest of them. */
  roundLatenciesMs?: number[];
  /**
   * A kernel near the timer's resolution is timed as this many copies in one model and labelled
   * per copy (kernel statistics per copy; `wall` and `boundary` are the whole model's).
   */
  copies?: number;
}
