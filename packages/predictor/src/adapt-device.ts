// Adapting a whole device at once. A budget of a few hundred kernels over two dozen kernel types
// leaves a handful per type: too few to choose a source or fit a line per type. So one source
// device is chosen for all types, on a probe set that spans them; each type's predictor is that
// source's, recalibrated with a line shrunk toward the one all types share; then kernels are added
// where predictions are worst until a held-out accuracy target is met or the budget is spent.
import type { KernelConfig } from '@litepred/kernels';
import { seededRng } from '@litepred/nn';
import { metrics, type Metrics } from './metrics.js';
import type { Sample } from './mlp-predictor.js';
import type { KernelLatencyPredictor } from './kernel-latency-predictor.js';
import { fitLine, rankSources, type RankedCandidate, type SimilarityMeasure } from './similarity.js';
import { RooflinePredictor } from './roofline-predictor.js';
import { finegrained, RecalibratedPredictor } from './transfer.js';

export interface PoolDevice {
  source: string;
  predictors: ReadonlyMap<string, KernelLatencyPredictor>;
}

export interface Shrinkage {
  /** Prior weight of the shared intercept, in kernels. */
  intercept: number;
  /** Prior weight of the shared slope, in squared log-ms of spread. */
  slope: number;
}

export const DEFAULT_SHRINKAGE: Shrinkage = { intercept: 2, slope: 4 };

const log = (v: number) => Math.log(Math.max(v, 1e-9));

/**
 * How much a measurement counts in choosing and fitting: fully from `fullMs` up, proportionally
 * less below. A kernel of a few µs has a timer-noise label, and a model's latency barely feels it.
 */
export const relevance = (fullMs: number) => (s: Sample) => Math.min(1, s.latencyMs / fullMs);

/**
 * Each type's line log(ms) = a_t + b_t·log(source_ms) is the ridge estimate around the line all
 * types share: with no kernels of a type it is the shared line, with many its own.
 */
export function recalibrateDevice(
  source: PoolDevice,
  samples: readonly Sample[],
  shrinkage: Shrinkage = DEFAULT_SHRINKAGE,
  weightOf: (s: Sample) => number = () => 1,
): Map<string, RecalibratedPredictor> {
  if (samples.length < 2) throw new Error('recalibration needs at least 2 measurements');
  const byType = new Map<string, { x: number[]; y: number[]; w: number[] }>();
  for (const s of samples) {
    const predictor = source.predictors.get(s.config.type);
    if (!predictor) throw new Error(`${source.source} has no ${s.config.type} predictor`);
    const e = byType.get(s.config.type) ?? { x: [], y: [], w: [] };
    e.x.push(log(predictor.predict([s.config])[0]!));
    e.y.push(log(s.latencyMs));
    e.w.push(weightOf(s));
    byType.set(s.config.type, e);
  }
  const all = [...byType.values()];
  const shared = fitLine(
    all.flatMap((e) => e.x),
    all.flatMap((e) => e.y),
    all.flatMap((e) => e.w),
  );
  const out = new Map<string, RecalibratedPredictor>();
  for (const [type, predictor] of source.predictors) {
    const e = byType.get(type);
    if (!e) {
      out.set(type, new RecalibratedPredictor(predictor, shared.a, shared.b));
      continue;
    }
    const n = e.w.reduce((s, v) => s + v, 0);
    const mx = e.x.reduce((s, v, i) => s + e.w[i]! * v, 0) / n;
    // Centred on the type's own mean log prediction, intercept and slope estimates are independent.
    const c = (e.y.reduce((s, v, i) => s + e.w[i]! * v, 0) + shrinkage.intercept * (shared.a + shared.b * mx)) / (n + shrinkage.intercept);
    const sxx = e.x.reduce((s, v, i) => s + e.w[i]! * (v - mx) ** 2, 0);
    const sxy = e.x.reduce((s, v, i) => s + e.w[i]! * (v - mx) * e.y[i]!, 0);
    const b = (sxy + shrinkage.slope * shared.b) / (sxx + shrinkage.slope);
    out.set(type, new RecalibratedPredictor(predictor, c - b * mx, b));
  }
  return out;
}

/**
 * Per kernel type, the transferred line or a predictor trained on the device's own kernels alone,
 * whichever predicts the type's kernels better when each is left out in turn (weighted by
 * relevance). With a handful of kernels the transfer wins; with enough, the device's own data can.
 */
export function chooseByCrossValidation(
  source: PoolDevice,
  samples: readonly Sample[],
  train: (type: string, samples: readonly Sample[]) => KernelLatencyPredictor,
  options: { shrinkage?: Shrinkage; weightOf?: (s: Sample) => number; minOwn?: number } = {},
): Map<string, KernelLatencyPredictor> {
  const weightOf = options.weightOf ?? (() => 1);
  const transferred: Map<string, KernelLatencyPredictor> = recalibrateDevice(source, samples, options.shrinkage, weightOf);
  const out = new Map(transferred);
  for (const type of transferred.keys()) {
    const own = samples.filter((s) => s.config.type === type);
    if (own.length < (options.minOwn ?? 6)) continue;
    let [errTransfer, errOwn] = [0, 0];
    for (const [i, held] of own.entries()) {
      const rest = samples.filter((s) => s !== held);
      const w = weightOf(held);
      errTransfer +=
        w *
        Math.abs(
          log(recalibrateDevice(source, rest, options.shrinkage, weightOf).get(type)!.predict([held.config])[0]!) - log(held.latencyMs),
        );
      errOwn +=
        w *
        Math.abs(
          log(
            train(
              type,
              own.filter((_, j) => j !== i),
            ).predict([held.config])[0]!,
          ) - log(held.latencyMs),
        );
    }
    if (errOwn < errTransfer) out.set(type, train(type, own));
  }
  return out;
}

/** One source device for all types: the log-linear (or other) measure over the probe kernels of every type. */
export function rankPoolDevices(
  pool: readonly PoolDevice[],
  probe: readonly Sample[],
  measure: SimilarityMeasure = 'log-linear',
  weightOf: (s: Sample) => number = () => 1,
): RankedCandidate[] {
  const candidates = pool.filter((d) => probe.every((s) => d.predictors.has(s.config.type)));
  if (candidates.length === 0) throw new Error('no pool device has a predictor for every probed kernel type');
  return rankSources(
    candidates.map((d) => ({ source: d.source, predicted: probe.map((s) => d.predictors.get(s.config.type)!.predict([s.config])[0]!) })),
    probe.map((s) => s.latencyMs),
    measure,
    probe.map(weightOf),
  );
}

export type DeviceAdaptEvent =
  | { phase: 'probe'; measured: number }
  | { phase: 'source'; ranked: RankedCandidate[] }
  | { phase: 'round'; round: number; measured: number; heldOut: Metrics };

export interface AdaptDeviceOptions {
  /** Kernel types to adapt; those no pool device has a predictor for are reported, not adapted. */
  types: readonly string[];
  pool: readonly PoolDevice[];
  /** Measures configs on the new device, in order; NaN for a config that failed. */
  measure(configs: KernelConfig[], phase: string): Promise<number[]>;
  /** Draws configs of a kernel type (the VAE sampler), seeded. */
  sample(type: string, n: number, seed: number): KernelConfig[];
  /** Kernel measurements allowed in all, probe and held-out included. */
  budget: number;
  /** Share of held-out kernels within ±10% that ends the loop. */
  target: number;
  probePerType?: number;
  heldOutPerType?: number;
  /** Kernels added per round. */
  step?: number;
  /** Held-out kernels faster than this are measured but not judged: ±10% of a few µs is timer noise. */
  minJudgedMs?: number;
  measureName?: SimilarityMeasure;
  shrinkage?: Shrinkage;
  /**
   * Trains a predictor on the device's own kernels of one type; per type, cross-validation then
   * picks it or the transferred line (chooseByCrossValidation). Default: the roofline predictor.
   * null: always the transferred line.
   */
  trainOwn?: ((type: string, samples: readonly Sample[]) => KernelLatencyPredictor) | null;
  seed?: number;
  onProgress?(event: DeviceAdaptEvent): void;
}

export interface AdaptedDevice {
  /** Per type: the source's predictor recalibrated (RecalibratedPredictor), or one trained on the device's own kernels. */
  predictors: Map<string, KernelLatencyPredictor>;
  source: string;
  ranked: RankedCandidate[];
  samples: Sample[];
  heldOut: Sample[];
  heldOutMetrics: Metrics;
  measured: number;
  rounds: number;
  stoppedBecause: 'target' | 'budget';
  /** Requested types no pool device covers. */
  skippedTypes: string[];
}

export async function adaptDevice(o: AdaptDeviceOptions): Promise<AdaptedDevice> {
  const seed = o.seed ?? 1;
  const [probeN, heldN, step, minMs] = [o.probePerType ?? 2, o.heldOutPerType ?? 2, o.step ?? 40, o.minJudgedMs ?? 0.01];
  const types = o.types.filter((t) => o.pool.some((d) => d.predictors.has(t)));
  const skippedTypes = o.types.filter((t) => !types.includes(t));
  if (types.length === 0) throw new Error(`no pool device has a predictor for any of: ${o.types.join(', ')}`);
  const upFront = types.length * (probeN + heldN);
  if (o.budget < upFront) {
    throw new Error(
      `a budget of ${o.budget} kernels cannot cover the probe and held-out sets of ${types.length} kernel types ` +
        `(${upFront}); raise it or adapt fewer types`,
    );
  }
  const r = seededRng(seed);
  let measured = 0;
  const measureSamples = async (configs: KernelConfig[], phase: string): Promise<Sample[]> => {
    const ms = await o.measure(configs, phase);
    measured += configs.length;
    return configs.map((config, i) => ({ config, latencyMs: ms[i]! })).filter((s) => s.latencyMs > 0);
  };
  const draw = (n: number, salt: number) => types.flatMap((t, i) => o.sample(t, n, seed * 7919 + salt * 1009 + i));
  let samples = await measureSamples(draw(probeN, 0), 'probe');
  o.onProgress?.({ phase: 'probe', measured });
  const weightOf = relevance(minMs);
  const ranked = rankPoolDevices(
    o.pool.filter((d) => types.every((t) => d.predictors.has(t))),
    samples,
    o.measureName,
    weightOf,
  );
  o.onProgress?.({ phase: 'source', ranked });
  const source = o.pool.find((d) => d.source === ranked[0]!.source)!;
  const heldOut = await measureSamples(draw(heldN, 1), 'held-out');
  const judged = heldOut.filter((s) => s.latencyMs >= minMs);
  if (judged.length === 0) throw new Error(`no held-out kernel took ${minMs} ms or more; nothing to judge accuracy on`);
  for (let round = 1; ; round++) {
    const trainOwn = o.trainOwn === undefined ? (t: string, x: readonly Sample[]) => RooflinePredictor.train(t, x) : o.trainOwn;
    const predictors: Map<string, KernelLatencyPredictor> = trainOwn
      ? chooseByCrossValidation(source, samples, trainOwn, { shrinkage: o.shrinkage, weightOf })
      : recalibrateDevice(source, samples, o.shrinkage, weightOf);
    const predicted = judged.map((s) => predictors.get(s.config.type)!.predict([s.config])[0]!);
    const heldOutMetrics = metrics(
      predicted,
      judged.map((s) => s.latencyMs),
    );
    o.onProgress?.({ phase: 'round', round, measured, heldOut: heldOutMetrics });
    const room = o.budget - measured;
    if (heldOutMetrics.within10 >= o.target || room <= 0) {
      return {
        predictors,
        source: source.source,
        ranked,
        samples,
        heldOut,
        heldOutMetrics,
        measured,
        rounds: round,
        stoppedBecause: room <= 0 && heldOutMetrics.within10 < o.target ? 'budget' : 'target',
        skippedTypes,
      };
    }
    samples = [
      ...samples,
      ...(await measureSamples(
        nextConfigs(predictors, samples, types, Math.min(step, room), r, (n, t, salt) => o.sample(t, n, seed * 7919 + salt), round),
        `round ${round}`,
      )),
    ];
  }
}

/**
 * Half fine-grained configs around the worst-fitted kernels so far (nn-Meter's refinement), half
 * fresh samples, spread over the types by how badly they fit and how few kernels they have.
 */
function nextConfigs(
  predictors: Map<string, KernelLatencyPredictor>,
  samples: readonly Sample[],
  types: readonly string[],
  n: number,
  r: () => number,
  sample: (n: number, type: string, salt: number) => KernelConfig[],
  round: number,
): KernelConfig[] {
  const errors = samples.map((s) => [Math.abs(log(predictors.get(s.config.type)!.predict([s.config])[0]!) - log(s.latencyMs)), s] as const);
  const worst = [...errors].sort((a, b) => b[0] - a[0]).slice(0, 4);
  const near = worst.flatMap(([, s]) => finegrained(s.config, Math.ceil(n / 2 / worst.length), r)).slice(0, Math.floor(n / 2));
  const need = types.map((t) => {
    const e = errors.filter(([, s]) => s.config.type === t).map(([v]) => v);
    return (e.reduce((s, v) => s + v, 0) / Math.max(1, e.length) + 0.05) / Math.sqrt(e.length + 1);
  });
  const total = need.reduce((s, v) => s + v, 0);
  const fresh = n - near.length;
  // Largest-remainder apportionment of the fresh kernels over the types.
  const quota = need.map((v) => (v / total) * fresh);
  const counts = quota.map(Math.floor);
  const order = quota.map((q, i) => [q - Math.floor(q), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; counts.reduce((s, v) => s + v, 0) < fresh; k++) counts[order[k % order.length]![1]]!++;
  return [...near, ...types.flatMap((t, i) => (counts[i]! > 0 ? sample(counts[i]!, t, 100_000 + round * 1009 + i) : []))];
}
