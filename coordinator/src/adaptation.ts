// Adaptations: make predictors for a new device from the pool and a small budget of its own
// measurements (adaptDevice), then its composition from a few whole models measured end to end.
// Every batch of measurements is a campaign linked to the adaptation and its phase, so the store
// holds the whole state: a coordinator restart or an agent that dies mid-way resumes where it
// stopped (the same seeds redraw the same configs, and a phase whose campaign exists is read back
// instead of measured again). Waiting for a campaign is waiting for its event (events.ts).
import { compactConfig, resolveConfig, type KernelConfig } from '@litepred/kernels';
import {
  adaptDevice,
  FUSION_PAIRS,
  MIN_JUDGED_MS,
  fusionProbe,
  isFused,
  metrics,
  RecalibratedPredictor,
  recalibratedData,
  type RooflinePredictor,
  type BasePredictorData,
  type DeviceAdaptEvent,
  type KernelLatencyPredictor,
} from '@litepred/predictor';
import {
  architectureOf,
  architectureTask,
  isArchitectureTask,
  type WireKernelConfig,
  type WireMeasurementProtocol,
} from '@litepred/protocol';
import { SEARCH_SPACES } from '@litepred/spaces';
import { sampleConfigs } from '@litepred/sampler';
import type { PredictorStore } from './predictor-store.js';
import type { Adaptation, AdaptationOptions } from './store/adaptations.js';
import type { PredictorService } from './predictor-service.js';
import { StoreError, type Store } from './store.js';

export const DEFAULT_ADAPTATION: AdaptationOptions = { budget: 300, target: 0.95, seed: 1, models: 28 };
/** Architectures an adaptation measures end to end come from these seeds (the benchmarks use others). */
const ADAPTATION_MODEL_SEED = 7000;

class Stopped extends Error {}

export class AdaptationRunner {
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;
  /** The campaign waits in progress: each one's way to give up when the runner stops. */
  private readonly waits = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly predictors: PredictorStore,
    private readonly service: PredictorService,
    private readonly options: { protocol: WireMeasurementProtocol; isOnline(deviceId: string): boolean; log(line: string): void },
  ) {}

  /** Starts adapting a device; refuses a device that is unknown, revoked, a pool device, or already adapting. */
  start(deviceId: string, options: Partial<AdaptationOptions> = {}): Adaptation {
    const device = this.store.getDevice(deviceId);
    if (device.revoked) throw new StoreError('INVALID', `device ${deviceId} is revoked`);
    if (device.origin !== 'agent') throw new StoreError('INVALID', `device ${deviceId} is a starter-pool device; adapt an enrolled one`);
    const busy = this.predictors.adaptations.list({ deviceId, state: 'running' })[0];
    if (busy) throw new StoreError('INVALID', `device ${deviceId} is already adapting (${busy.id})`);
    const o = { ...DEFAULT_ADAPTATION, ...options };
    if (!Number.isInteger(o.budget) || o.budget < 1)
      throw new StoreError('INVALID', `budget: a positive whole number of kernels, not ${o.budget}`);
    if (!(o.target > 0 && o.target <= 1))
      throw new StoreError('INVALID', `target: a share of held-out kernels within ±10%, in (0, 1], not ${o.target}`);
    if (!Number.isInteger(o.models) || o.models < 0)
      throw new StoreError('INVALID', `models: a whole number of architectures to measure end to end (0 for none), not ${o.models}`);
    if (this.service.pool(deviceId).length === 0)
      throw new StoreError(
        'INVALID',
        'the pool is empty: no device has full-data predictors yet (start with the starter pool, or run a campaign)',
      );
    const adaptation = this.predictors.adaptations.create(deviceId, o);
    this.launch(adaptation);
    return adaptation;
  }

  /** Picks up adaptations a previous coordinator process left running. */
  resumeAll(): void {
    for (const a of this.predictors.adaptations.list({ state: 'running' })) {
      this.options.log(`resuming adaptation ${a.id} of ${a.deviceId}`);
      this.launch(a);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const stop of [...this.waits]) stop();
    await Promise.allSettled(this.running.values());
  }

  private launch(a: Adaptation): void {
    const done = this.run(a)
      .catch((error: Error) => {
        if (error instanceof Stopped) return; // stays 'running' in the store: the next start resumes it
        this.predictors.adaptations.finish(a.id, { state: 'failed', error: error.message });
        this.options.log(`adaptation ${a.id} failed: ${error.message}`);
      })
      .finally(() => this.running.delete(a.id));
    this.running.set(a.id, done);
  }

  private async run(a: Adaptation): Promise<void> {
    const pool = this.service.pool(a.deviceId);
    const types = [...new Set(pool.flatMap((d) => [...d.predictors.keys()]))].filter((t) => pool.every((d) => d.predictors.has(t))).sort();
    const stored = new Map(this.predictors.latestPredictors().map((p) => [`${p.deviceId}/${p.kernelType}`, p]));
    let progress: Record<string, unknown> = { phase: 'fusion', measured: 0, budget: a.options.budget, target: a.options.target };
    const report = (update: Record<string, unknown>) => {
      progress = { ...progress, ...update };
      this.predictors.adaptations.update(a.id, progress);
    };
    report({ phase: 'fusion' });
    const fusion = await this.fusion(a, (waiting) => report({ waiting }));
    report({ phase: 'probe', fusion });
    const adapted = await adaptDevice({
      types,
      pool,
      budget: a.options.budget,
      target: a.options.target,
      seed: a.options.seed,
      minJudgedMs: MIN_JUDGED_MS,
      sample: (type, n, seed) => sampleConfigs(type, n, { sampler: 'vae', seed }).configs,
      measure: async (configs, phase) => this.measure(a, configs, phase, (waiting) => report({ waiting })),
      onProgress: (e: DeviceAdaptEvent) => report(describe(e)),
    });
    const perType = new Map<string, number>();
    for (const s of adapted.samples) perType.set(s.config.type, (perType.get(s.config.type) ?? 0) + 1);
    const versions = this.predictors.savePredictors(
      [...adapted.predictors].map(([type, p]) => {
        const judged = adapted.heldOut.filter((s) => s.config.type === type && s.latencyMs >= MIN_JUDGED_MS);
        const source = stored.get(`${adapted.source}/${type}`)!;
        // Transferred (the source's predictor recalibrated), or trained on the device's own kernels where that cross-validated better.
        const transferred = p instanceof RecalibratedPredictor;
        return {
          deviceId: a.deviceId,
          kernelType: type,
          kind: transferred ? 'recalibrated' : 'roofline',
          data: transferred
            ? recalibratedData(source.data as BasePredictorData, adapted.source, { a: p.a, b: p.b })
            : (p as RooflinePredictor).toJSON(),
          trainingSamples: perType.get(type) ?? 0,
          metrics: judged.length
            ? {
                ...metrics(
                  p.predict(judged.map((s) => s.config)),
                  judged.map((s) => s.latencyMs),
                ),
              }
            : null,
          provenance: {
            method: 'adapted',
            adaptationId: a.id,
            sourceDevice: transferred ? adapted.source : 'own kernels',
            measurements: adapted.measured,
          },
        };
      }),
    );
    const composition = await this.composition(a, adapted.predictors, (update) => report(update));
    const result = {
      source: adapted.source,
      ranked: adapted.ranked.slice(0, 5),
      measured: adapted.measured,
      rounds: adapted.rounds,
      stoppedBecause: adapted.stoppedBecause,
      heldOut: adapted.heldOutMetrics,
      skippedTypes: adapted.skippedTypes,
      predictors: [...adapted.predictors.keys()].map((t, i) => ({ kernelType: t, version: versions[i] })),
      composition,
      fusion,
    };
    this.predictors.adaptations.finish(a.id, { state: 'done', result });
    this.options.log(
      `adaptation ${a.id} of ${a.deviceId} done: source ${adapted.source}, ${adapted.measured} ` +
        `kernels, ${(adapted.heldOutMetrics.within10 * 100).toFixed(1)}% of held-out kernels within ±10%`,
    );
  }

  /**
   * nn-Meter's fusion-rule test on the device (op1, op2, op1->op2 for each pair, at one mid-size
   * shape); the rules steer how the device's models are decomposed. Not counted in the budget.
   */
  private async fusion(a: Adaptation, waiting: (why: string | null) => void): Promise<Record<string, boolean>> {
    const probes = FUSION_PAIRS.map((pair) => fusionProbe(pair, { HW: 28, CIN: 64, COUT: 64, KERNEL_SIZE: 3 }));
    const latencies = await this.measure(a, probes.flat(), 'fusion', waiting);
    const rules: Record<string, boolean> = {};
    const timings: Record<string, [number, number, number]> = {};
    FUSION_PAIRS.forEach((pair, i) => {
      const [t1, t2, t12] = latencies.slice(3 * i, 3 * i + 3) as [number, number, number];
      if (![t1, t2, t12].every((t) => t > 0)) return; // a probe failed: leave the pair at its default (fused)
      timings[pair.name] = [t1, t2, t12];
      rules[pair.name] = isFused(t1, t2, t12);
    });
    this.predictors.saveFusionRules(a.deviceId, rules, timings);
    return rules;
  }

  /**
   * The device's composition: whole architectures of every space measured end to end on it, the
   * in-network factors fitted on them with the adapted predictors (accuracy on a third held out).
   */
  private async composition(
    a: Adaptation,
    predictors: ReadonlyMap<string, KernelLatencyPredictor>,
    report: (u: Record<string, unknown>) => void,
  ) {
    if (a.options.models === 0) return null;
    report({ phase: 'models', modelsPlanned: a.options.models });
    const configs = Array.from({ length: a.options.models }, (_, i) =>
      architectureTask(SEARCH_SPACES[i % SEARCH_SPACES.length]!.name, ADAPTATION_MODEL_SEED + a.options.seed * 1000 + i),
    );
    const latencies = await this.measure(a, configs as KernelConfig[], 'models', (waiting) => report({ waiting }));
    const models = configs.map((c, i) => ({ ...architectureOf(c), latencyMs: latencies[i]! })).filter((m) => m.latencyMs > 0);
    const fitted = this.service.fitComposition(a.deviceId, models, predictors);
    if (!fitted) return { models: models.length, fitted: false };
    const version = this.predictors.saveComposition(a.deviceId, fitted.composition, fitted.heldOut ? { ...fitted.heldOut } : null, {
      method: 'adapted',
      adaptationId: a.id,
      models: models.length,
    });
    return { models: models.length, version, heldOut: fitted.heldOut ?? null };
  }

  /** One batch of measurements on the adapting device: its campaign, created or found again, awaited. */
  private async measure(a: Adaptation, configs: KernelConfig[], phase: string, waiting: (why: string | null) => void): Promise<number[]> {
    const campaign =
      this.store.findAdaptationCampaign(a.id, phase) ??
      this.store.createCampaign({
        name: `adapt ${a.id}: ${phase}`,
        adaptation: { id: a.id, phase },
        configs: configs.map((c) => (isArchitectureTask(c) ? c : compactConfig(resolveConfig(c))) as WireKernelConfig),
        deviceIds: [a.deviceId],
        protocol: this.options.protocol,
        purpose: 'adaptation',
      });
    const state = await this.settled(campaign.id, a.deviceId, waiting);
    if (state === 'cancelled') throw new Error(`its campaign ${campaign.id} (${phase}) was cancelled`);
    waiting(null);
    const rows = this.store.campaignResults(campaign.id);
    if (rows.length !== configs.length) throw new Error(`campaign ${campaign.id} has ${rows.length} tasks for ${configs.length} configs`);
    return rows.map((r) => r.latencyMs ?? Number.NaN);
  }

  /**
   * Resolves when the campaign is done or cancelled (at once if it is already), saying meanwhile
   * whether the device is offline; rejects with Stopped when the runner stops. On the fleet's
   * events: nothing polls the store.
   */
  private settled(campaignId: string, deviceId: string, waiting: (why: string | null) => void): Promise<'done' | 'cancelled'> {
    return new Promise((resolve, reject) => {
      const events = this.store.events;
      const presence = () =>
        waiting(this.options.isOnline(deviceId) ? null : `device ${deviceId} is offline; waiting for its agent to reconnect`);
      const onPresence = (id: string) => {
        if (id === deviceId) presence();
      };
      const onDone = (id: string) => {
        if (id === campaignId) finish(() => resolve('done'));
      };
      const onCancelled = (id: string) => {
        if (id === campaignId) finish(() => resolve('cancelled'));
      };
      const stop = () => finish(() => reject(new Stopped()));
      const finish = (settle: () => void) => {
        events
          .off('campaign.done', onDone)
          .off('campaign.cancelled', onCancelled)
          .off('device.connected', onPresence)
          .off('device.disconnected', onPresence);
        this.waits.delete(stop);
        settle();
      };
      if (this.stopping) return reject(new Stopped());
      events
        .on('campaign.done', onDone)
        .on('campaign.cancelled', onCancelled)
        .on('device.connected', onPresence)
        .on('device.disconnected', onPresence);
      this.waits.add(stop);
      presence();
      const state = this.store.getCampaign(campaignId).state;
      if (state === 'done' || state === 'cancelled') finish(() => resolve(state));
    });
  }
}

function describe(e: DeviceAdaptEvent): Record<string, unknown> {
  if (e.phase === 'probe') return { phase: 'source', measured: e.measured };
  if (e.phase === 'source') {
    const [best, next] = e.ranked;
    return {
      phase: 'held-out',
      source: best!.source,
      ranked: e.ranked.slice(0, 5),
      why:
        `${best!.source} fits the probe kernels best (log-linear ` +
        `residual ${best!.score.toFixed(3)}${next ? `; next ${next.source} ${next.score.toFixed(3)}` : ''})`,
    };
  }
  return {
    phase: 'refine',
    round: e.round,
    measured: e.measured,
    heldOutWithin10: e.heldOut.within10,
    heldOutJudged: e.heldOut.n,
    heldOutMape: e.heldOut.mape,
  };
}
