// What the coordinator does with predictors: builds full-data ones for devices with enough
// measurements (they form the pool), loads a device's predictors, predicts whole models with them,
// and exports them as ONNX + metadata for `litepred predictor pull`.
import type { KernelConfig } from '@litepred/kernels';
import {
  BN_FOLD_RULE,
  composedLatency,
  decomposeModel,
  reorderMs,
  FUSION_PAIRS,
  type FusionRules,
  exportStoredPredictor,
  fitComposition,
  isStalePredictor,
  metrics,
  predictDecomposed,
  predictorFromData,
  predictorFor,
  runtimeFusionRules,
  trainFullData,
  typeSums,
  type Composition,
  type KernelLatencyPredictor,
  type Metrics,
  type ModelPrediction,
  type PoolDevice,
  type PredictorData,
  type PredictorMetadata,
} from '@litepred/predictor';
import { buildArchitectureModel, getSpace, kernelsOf, sampleArchitecture } from '@litepred/spaces';
import type { PredictorStore, StoredPredictor } from './predictor-store.js';
import { StoreError, type Store } from './store.js';

/**
 * Fewer distinct configs of a type than this give no full-data predictor. Low on purpose: the spaces use only a handful of fc, pooling and
 * transformer configs, and a roofline fits with few.
 */
export const MIN_FULL_DATA_SAMPLES = 6;

const FULL_DATA_KINDS = new Set(['roofline', 'litepred-mlp', 'gbdt']);
/** Devices whose parsed predictors are kept (the most recently used). */
const PARSED_DEVICES = 8;
/** Fewer whole models than this give no composition (it has a factor per kernel type). */
export const MIN_COMPOSITION_MODELS = 6;

/** What buildFullData would save for a device: plain data, so a worker thread can hand it over. */
export interface FullDataPlan {
  deviceId: string;
  built: string[];
  unchanged: string[];
  items: Omit<StoredPredictor, 'version' | 'createdAt'>[];
  composition?: { data: Composition; metrics: Record<string, number> | null; models: number };
}

export class PredictorService {
  constructor(
    private readonly store: Store,
    private readonly predictors: PredictorStore,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /**
   * Full-data predictors for every kernel type the device has enough distinct configs of: metrics
   * on a seeded 20% held out (the roofline's, or boosted trees' where enough is held out to choose
   * them: MIN_TREE_HELD_OUT), then the chosen kind trained on everything. A type whose latest
   * full-data predictor was built from the same number of measurements is left as it is.
   */
  buildFullData(deviceId: string): { built: string[]; unchanged: string[] } {
    const plan = this.planFullData(deviceId);
    this.saveFullData(plan);
    return { built: plan.built, unchanged: plan.unchanged };
  }

  /**
   * buildFullData's work, reading the store only: a worker thread runs it on its own connection and
   * the coordinator saves the plan (one writer: a second one makes the coordinator's deferred
   * transactions fail with SQLITE_BUSY when the worker commits between their read and their write).
   */
  planFullData(deviceId: string): FullDataPlan {
    const loaded = this.loaded(deviceId);
    const latest = new Map(this.predictors.latestPredictors(deviceId).map((p) => [p.kernelType, p]));
    const built: string[] = [];
    const unchanged: string[] = [];
    const items: FullDataPlan['items'] = [];
    for (const [type, rows] of this.predictors.kernelSamples(deviceId)) {
      const samples = rows.map((r) => ({ config: r.config as KernelConfig, latencyMs: Math.max(r.latencyMs, 1e-3) }));
      if (samples.length < MIN_FULL_DATA_SAMPLES) continue;
      const previous = latest.get(type);
      if (
        previous?.provenance.method === 'full-data' &&
        previous.provenance.measurements === samples.length &&
        !isStalePredictor(previous.data as PredictorData)
      ) {
        unchanged.push(type);
        continue;
      }
      const { kind, predictor, metrics: m, heldOut, candidates } = trainFullData(type, samples);
      loaded.set(type, predictor);
      items.push({
        deviceId,
        kernelType: type,
        kind,
        data: predictor.toJSON(),
        trainingSamples: samples.length,
        metrics: { ...m },
        provenance: { method: 'full-data', measurements: samples.length, heldOut, candidates },
      });
      built.push(type);
    }
    const models = this.predictors.architectureMeasurements(deviceId, { purposes: ['profile', 'starter-pool'] });
    const previous = this.predictors.latestComposition(deviceId);
    let composition: FullDataPlan['composition'];
    if (models.length >= MIN_COMPOSITION_MODELS && (built.length > 0 || previous?.provenance.models !== models.length)) {
      const fitted = this.fitComposition(deviceId, models, loaded);
      if (fitted) composition = { data: fitted.composition, metrics: fitted.heldOut ? { ...fitted.heldOut } : null, models: models.length };
    }
    return { deviceId, built, unchanged, items, composition };
  }

  saveFullData(plan: FullDataPlan): void {
    if (plan.items.length) this.predictors.savePredictors(plan.items);
    if (plan.built.length) this.log(`${plan.deviceId}: full-data predictors built for ${plan.built.length} kernel type(s)`);
    if (plan.composition)
      this.predictors.saveComposition(plan.deviceId, plan.composition.data, plan.composition.metrics, {
        method: 'full-data',
        models: plan.composition.models,
      });
  }

  /**
   * A composition from whole models the device measured, with its accuracy on a third of them held
   * out (fitted on the rest) before the stored one is fitted on all.
   */
  fitComposition(
    deviceId: string,
    models: readonly { space: string; seed: number; latencyMs: number }[],
    predictors: ReadonlyMap<string, KernelLatencyPredictor>,
  ): { composition: Composition; heldOut?: Metrics } | undefined {
    const overheadMs = this.predictors.runOverheadMs(deviceId);
    // The kernels predict() will see: the space's own list, or with the device's fusion rules the model's decomposition.
    // (The batch-norm rule alone changes nothing here: the spaces list each kernel as their models have it.)
    const fusionRules = this.fusionRulesFor(deviceId, predictors);
    const split = fusionRules && Object.keys(fusionRules).some((rule) => rule !== BN_FOLD_RULE);
    // Where the device runs NCHWc, each model's layout reorders are priced apart (predict() adds them), so no factor absorbs them.
    const reorderCost = this.predictors.reorderCost(deviceId);
    const model = (space: string, seed: number) => {
      const arch = sampleArchitecture(getSpace(space), seed);
      const d =
        split || reorderCost ? decomposeModel(buildArchitectureModel(arch, { structureOnly: true }).bytes, { fusionRules }) : undefined;
      const fixedMs = d && reorderCost ? [...d.reorders, ...d.copies].reduce((t, r) => t + reorderMs(reorderCost, r.bytes), 0) : 0;
      return { kernels: split && d ? d : kernelsOf(arch), fixedMs };
    };
    const usable = models
      .map((m) => {
        const { kernels, fixedMs } = model(m.space, m.seed);
        return { sums: typeSums(kernels, predictors), measuredMs: m.latencyMs, fixedMs };
      })
      .filter((m): m is { sums: Map<string, number>; measuredMs: number; fixedMs: number } => m.sums !== undefined);
    if (usable.length < MIN_COMPOSITION_MODELS) return undefined;
    const test = usable.filter((_, i) => i % 3 === 2);
    const part = fitComposition(
      usable.filter((_, i) => i % 3 !== 2),
      overheadMs,
    );
    const heldOut = test.length
      ? metrics(
          test.map((m) => composedLatency(m.sums, overheadMs + m.fixedMs, part)),
          test.map((m) => m.measuredMs),
        )
      : undefined;
    return { composition: fitComposition(usable, overheadMs), heldOut };
  }

  /**
   * The device's measured fusion rules, as decomposition should use them: a pair it runs unfused
   * is split only where it has predictors for both halves; otherwise the fused kernel, whose
   * measurements on the device include both ops however they ran, predicts it.
   */
  fusionRulesFor(deviceId: string, predictors: ReadonlyMap<string, unknown> = this.loaded(deviceId)): FusionRules | undefined {
    const rules = this.predictors.fusionRules(deviceId);
    const runtime = runtimeFusionRules(this.store.getDevice(deviceId).fingerprint.runtime);
    if (!rules && Object.keys(runtime).length === 0) return undefined;
    const measured = FUSION_PAIRS.filter((p) => rules?.[p.name] === false && predictors.has(p.first) && predictors.has(p.second)).map(
      (p) => [p.name, false],
    );
    return { ...runtime, ...Object.fromEntries(measured) };
  }

  /**
   * Devices' newest predictors, read and parsed once until one of them changes: a dense pool's
   * boosted-tree predictors are tens of MB of JSON per device, too much to read for every prediction.
   */
  private readonly parsed = new Map<
    string,
    { stamp: string; stored: StoredPredictor[]; predictors: Map<string, KernelLatencyPredictor> }
  >();

  private current(deviceId: string): { stored: StoredPredictor[]; predictors: Map<string, KernelLatencyPredictor> } {
    const stamp = this.predictors.predictorStamp(deviceId);
    const hit = this.parsed.get(deviceId);
    if (hit?.stamp === stamp) {
      this.parsed.delete(deviceId);
      this.parsed.set(deviceId, hit); // most recently used last
      return hit;
    }
    const stored = this.predictors.latestPredictors(deviceId);
    const entry = { stamp, stored, predictors: new Map(stored.map((p) => [p.kernelType, predictorFromData(p.data as PredictorData)])) };
    this.parsed.delete(deviceId);
    this.parsed.set(deviceId, entry);
    while (this.parsed.size > PARSED_DEVICES) this.parsed.delete(this.parsed.keys().next().value!);
    return entry;
  }

  /** The newest predictor of each kernel type of a device, ready to predict. */
  loaded(deviceId: string): Map<string, KernelLatencyPredictor> {
    return new Map(this.current(deviceId).predictors);
  }

  /** The pool: every other device's newest full-data predictors. */
  pool(exceptDeviceId?: string): PoolDevice[] {
    const byDevice = new Map<string, Map<string, KernelLatencyPredictor>>();
    for (const p of this.predictors.latestPredictors()) {
      if (p.deviceId === exceptDeviceId || !FULL_DATA_KINDS.has(p.kind)) continue;
      const m = byDevice.get(p.deviceId) ?? new Map<string, KernelLatencyPredictor>();
      m.set(p.kernelType, predictorFromData(p.data as PredictorData));
      byDevice.set(p.deviceId, m);
    }
    return [...byDevice].map(([source, predictors]) => ({ source, predictors }));
  }

  /** The newest stored predictor data for a device's kernel types. */
  storedFor(deviceId: string): StoredPredictor[] {
    this.store.getDevice(deviceId);
    return this.predictors.latestPredictors(deviceId);
  }

  /** A whole model's latency on a device: decomposition, kernel predictions, the device's run overhead. */
  predict(
    deviceId: string,
    model: Uint8Array,
    inputShape?: readonly number[],
  ): ModelPrediction & { deviceId: string; versions: Record<string, number> } {
    this.store.getDevice(deviceId);
    const { stored, predictors } = this.current(deviceId);
    if (stored.length === 0)
      throw new StoreError(
        'NOT_FOUND',
        `device ${deviceId} has no predictors yet (run litepred adapt --device ${deviceId}, or a campaign)`,
      );
    const fusionRules = this.fusionRulesFor(deviceId, predictors);
    const decomposition = decomposeModel(model, { inputShape, fusionRules });
    const composition = this.predictors.latestComposition(deviceId)?.data as Composition | undefined;
    const prediction = predictDecomposed(decomposition, predictors, {
      overheadMs: this.predictors.runOverheadMs(deviceId),
      composition,
      reorderCost: this.predictors.reorderCost(deviceId),
    });
    // The stored predictor each kernel type was predicted by (a conv type's twin where batch norm folds).
    const byType = new Map(stored.map((p) => [p.kernelType, p]));
    const used = [...new Set(decomposition.kernels.map((k) => k.config.type))]
      .map((t) => predictorFor(byType, t, decomposition.foldsBatchNorm))
      .filter((p) => p !== undefined);
    return {
      deviceId,
      versions: Object.fromEntries(used.map((p) => [p.kernelType, p.version])),
      ...prediction,
      ...(fusionRules ? { fusionRules } : {}),
    };
  }

  /** One predictor as ONNX + metadata. */
  exportOne(deviceId: string, kernelType: string, version?: number): { onnx: Uint8Array; metadata: PredictorMetadata } {
    const device = this.store.getDevice(deviceId);
    const p = this.predictors.getPredictor(deviceId, kernelType, version);
    return exportStoredPredictor(p.data as PredictorData, {
      device: { id: device.id, fingerprint: device.fingerprint },
      trainingSamples: p.trainingSamples,
      metrics: (p.metrics ?? undefined) as never,
      createdAt: new Date(p.createdAt).toISOString(),
      version: p.version,
    });
  }
}
