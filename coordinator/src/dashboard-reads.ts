// The dashboard's slow views, run in the read worker (read-worker.ts) on its own connection: one
// device's predictors against its own measurements, and how well each device's predictors rank
// every other device's kernels (the similarity the transfer relies on).
import { logLinearResidual, spearman } from '@litepred/predictor';
import type { PredictorService } from './predictor-service.js';
import type { PredictorStore } from './predictor-store.js';
import type { Store } from './store.js';

/** What these views read: the read worker gives them its own. */
export interface ReadContext {
  readonly store: Store;
  readonly predictors: PredictorStore;
  readonly service: PredictorService;
}

/** Points per kernel type in the accuracy scatter, and kernels per device pair in the similarity. */
const MAX_POINTS_PER_TYPE = 300;
const MAX_SIMILARITY_KERNELS = 300;
/** The similarity matrix needs this many kernels in common with a source's predictors to mean anything. */
const MIN_SIMILARITY_KERNELS = 20;

/** Every n-th item, so a long list is thinned evenly rather than cut. */
function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)]!);
}

/**
 * A device's newest predictors against the kernels it measured itself. Full-data predictors were
 * fitted on these kernels (their stored metrics are the held-out ones); adapted predictors were
 * fitted on a few of them.
 */
export function accuracy(c: ReadContext, deviceId: string) {
  c.store.getDevice(deviceId);
  const predictors = c.service.loaded(deviceId);
  const stored = new Map(c.service.storedFor(deviceId).map((p) => [p.kernelType, p]));
  const samples = c.predictors.kernelSamples(deviceId, ['profile', 'starter-pool', 'adaptation', 'check']);
  const points: { type: string; predictedMs: number; measuredMs: number }[] = [];
  const types = [];
  for (const [type, predictor] of predictors) {
    const mine = spread(samples.get(type) ?? [], MAX_POINTS_PER_TYPE);
    const predicted = mine.length ? predictor.predict(mine.map((s) => s.config)) : [];
    mine.forEach((s, i) => points.push({ type, predictedMs: predicted[i]!, measuredMs: s.latencyMs }));
    const p = stored.get(type)!;
    types.push({
      type,
      version: p.version,
      kind: p.kind,
      trainingSamples: p.trainingSamples,
      measured: mine.length,
      metrics: p.metrics,
      method: p.provenance.method ?? null,
    });
  }
  return { deviceId, types, points };
}

/**
 * similarity[i][j]: how well device i's predictors rank device j's measured kernels (Spearman), and
 * the log-linear residual LitePred's transfer minimises (lower = more alike); null where i has no
 * predictors or j too few measured kernels of i's types.
 */
export function similarity(c: ReadContext) {
  const devices = c.store
    .listDevices()
    .filter((d) => !d.revoked)
    .map((d) => d.id);
  const predictors = new Map(devices.map((id) => [id, c.service.loaded(id)]));
  const samples = new Map(
    devices.map((id) => [id, [...c.predictors.kernelSamples(id, ['profile', 'starter-pool', 'adaptation', 'check']).values()].flat()]),
  );
  const cell = (source: string, target: string) => {
    const p = predictors.get(source)!;
    const kernels = spread(
      samples.get(target)!.filter((s) => p.has(s.config.type) && s.latencyMs > 0),
      MAX_SIMILARITY_KERNELS,
    );
    if (kernels.length < MIN_SIMILARITY_KERNELS) return null;
    const predicted = kernels.map((s) => Math.max(1e-6, p.get(s.config.type)!.predict([s.config])[0]!));
    const measured = kernels.map((s) => s.latencyMs);
    return { spearman: spearman(predicted, measured), logLinear: logLinearResidual(predicted, measured), kernels: kernels.length };
  };
  return { devices, cells: devices.map((s) => devices.map((t) => cell(s, t))) };
}
