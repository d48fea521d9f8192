// What the dashboard shows at a glance, read from the store: devices, campaigns, adaptations. The
// slow views (accuracy, similarity) are in dashboard-reads.ts, run by the read worker.
import type { ApiContext } from './api-context.js';

/** Results per second are counted over this window; the ETA assumes the rate holds. */
const RATE_WINDOW_MS = 60_000;

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
    id: d.id,
    origin: d.origin,
    online: online.has(d.id),
    revoked: d.revoked,
    enrolledAt: d.enrolledAt,
    lastSeenAt: d.lastSeenAt,
    fingerprint: d.fingerprint,
    working: (leasedByDevice.get(d.id) ?? []).map((l) => ({
      campaignId: l.campaignId,
      name: names.get(l.campaignId) ?? l.campaignId,
      leased: l.tasks,
    })),
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
      id: k.id,
      name: k.name,
      purpose: k.purpose,
      state: k.state,
      createdAt: k.createdAt,
      finishedAt: k.finishedAt,
      total,
      done: by.done ?? 0,
      failed: by.failed ?? 0,
      leased: by.leased ?? 0,
      pending: by.pending ?? 0,
      cancelled: by.cancelled ?? 0,
      ratePerS,
      etaS: k.state === 'running' && ratePerS > 0 ? remaining / ratePerS : null,
    };
  });
  const adaptations = c.predictors.adaptations.list().map((a) => ({ ...a, online: online.has(a.deviceId) }));
  return { generatedAt: Date.now(), rateWindowS: RATE_WINDOW_MS / 1000, devices, campaigns, adaptations };
}
