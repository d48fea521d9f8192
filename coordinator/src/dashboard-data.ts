// What the dashboard shows, read from the store: the fleet at a glance (devices, campaigns,
// adaptations), one device's predictors against its own measurements, and how well each device's
// predictors rank every other device's kernels (the similarity the transfer relies on).
import { logLinearResidual, spearman } from '@litepred/predictor';
import type { ApiContext } from './api-context.js';

/** Results per second are counted over this window; the ETA assumes the rate holds. */
const RATE_WINDOW_MS = 60_000;
/** Points per kernel type in the accuracy scatter, and kernels per device pair in the similarity. */
const MAX_POINTS_PER_TYPE = 300;
const MAX_SIMILARITY_KERNELS = 300;
/** The similarity matrix needs this many kernels in common with a source's predictors to mean anything. */
const MIN_SIMILARITY_KERNELS = 20;

/**
 * Task counts of finished campaigns, per coordinator: they never change again (a late result for a
 * cancelled task is not taken), and counting them anew every 2 s would walk every task ever made.
 */
const finishedCounts = new WeakMap<ApiContext, Map<string, Record<string, number>>>();

/** Runs on the coordinator's thread every 2 s per open dashboard: nothing in it may grow with the store's history. */
export function overview(c: ApiContext) {
  const online = new Set(c.onlineDevices());
  const leased = c.store.outstandingLeases();
  const leasedByDevice = new Map<string, typeof leased>();
  for (const l of leased) {
    let held = leasedByDevice.get(l.deviceId);
    if (!held) leasedByDevice.set(l.deviceId, (held = []));
    held.push(l);
  }
  const allCampaigns = c.store.listCampaigns();
  const names = new Map(allCampaigns.map((k) => [k.id, k.name]));
  const measuredBy = c.store.measurementCounts();
  const recentBy = c.store.resultsSince(Date.now() - RATE_WINDOW_MS);
  let cache = finishedCounts.get(c);
  if (!cache) finishedCounts.set(c, (cache = new Map()));
  const stateCounts = (k: (typeof allCampaigns)[number]) => {
    const known = cache.get(k.id);
    if (known) return known;
    const counts = c.store.taskStates(k.id);
    if (k.state === 'done' || k.state === 'cancelled') cache.set(k.id, counts);
    return counts;
  };
  const predictorTypes = c.predictors.predictorTypeCounts();
  const devices = c.store.listDevices().map((d) => ({
    id: d.id, origin: d.origin, online: online.has(d.id), revoked: d.revoked, enrolledAt: d.enrolledAt, lastSeenAt: d.lastSeenAt, fingerprint: d.fingerprint,
    working: (leasedByDevice.get(d.id) ?? []).map((l) => ({ campaignId: l.campaignId, name: names.get(l.campaignId) ?? l.campaignId, leased: l.tasks })),
    measurements: measuredBy.get(d.id)?.measured ?? 0,
    driftFlagged: measuredBy.get(d.id)?.driftFlagged ?? 0,
    predictorTypes: predictorTypes.get(d.id) ?? 0,
  }));
  const campaigns = allCampaigns.map((k) => {
    const by = stateCounts(k);
    const total = Object.values(by).reduce((a, b) => a + b, 0);
    const finished = (by.done ?? 0) + (by.failed ?? 0) + (by.cancelled ?? 0);
    const ratePerS = (recentBy.get(k.id) ?? 0) / (RATE_WINDOW_MS / 1000);
    const remaining = total - finished;
    return {
      id: k.id, name: k.name, purpose: k.purpose, state: k.state, createdAt: k.createdAt, finishedAt: k.finishedAt,
      total, done: by.done ?? 0, failed: by.failed ?? 0, leased: by.leased ?? 0, pending: by.pending ?? 0, cancelled: by.cancelled ?? 0,
      ratePerS, etaS: k.state === 'running' && ratePerS > 0 ? remaining / ratePerS : null,
    };
  });
  const adaptations = c.predictors.listAdaptations().map((a) => ({ ...a, online: online.has(a.deviceId) }));
  return { generatedAt: Date.now(), rateWindowS: RATE_WINDOW_MS / 1000, devices, campaigns, adaptations };
}

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
export function accuracy(c: ApiContext, deviceId: string) {
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
    types.push({ type, version: p.version, kind: p.kind, trainingSamples: p.trainingSamples, measured: mine.length, metrics: p.metrics, method: p.provenance.method ?? null });
  }
  return { deviceId, types, points };
}

/**
 * similarity[i][j]: how well device i's predictors rank device j's measured kernels (Spearman), and
 * the log-linear residual LitePred's transfer minimises (lower = more alike); null where i has no
 * predictors or j too few measured kernels of i's types.
 */
export function similarity(c: ApiContext) {
  const devices = c.store.listDevices().filter((d) => !d.revoked).map((d) => d.id);
  const predictors = new Map(devices.map((id) => [id, c.service.loaded(id)]));
  const samples = new Map(devices.map((id) => [id, [...c.predictors.kernelSamples(id, ['profile', 'starter-pool', 'adaptation', 'check']).values()].flat()]));
  const cell = (source: string, target: string) => {
    const p = predictors.get(source)!;
    const kernels = spread(samples.get(target)!.filter((s) => p.has(s.config.type) && s.latencyMs > 0), MAX_SIMILARITY_KERNELS);
    if (kernels.length < MIN_SIMILARITY_KERNELS) return null;
    const predicted = kernels.map((s) => Math.max(1e-6, p.get(s.config.type)!.predict([s.config])[0]!));
    const measured = kernels.map((s) => s.latencyMs);
    return { spearman: spearman(predicted, measured), logLinear: logLinearResidual(predicted, measured), kernels: kernels.length };
  };
  return { devices, cells: devices.map((s) => devices.map((t) => cell(s, t))) };
}
