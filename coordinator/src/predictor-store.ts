// The store's predictor side: owner of the tables predictors (per device and kernel type, in
// versions), compositions and fusion_rules; reads the kernel samples and whole-model timings
// predictors are trained on. Adaptations and their progress: store/adaptations.ts. Same SQLite
// connection as store.ts (schema in its migrations).
import { architectureOf, isArchitectureTask, type WireKernelConfig } from '@litepred/protocol';
import type { KernelConfig } from '@litepred/kernels';
import { convTensorBytes, fitReorderCost, type ReorderCost } from '@litepred/predictor';
import type { CampaignPurpose, Store } from './store.js';
import { StoreError } from './store.js';
import { Adaptations } from './store/adaptations.js';
import { connectionOf, type StoreDatabase } from './store/database.js';

export type PredictorProvenance =
  | { method: 'full-data'; measurements: number; heldOut: number; candidates?: Record<string, number> }
  | { method: 'adapted'; adaptationId: string; sourceDevice: string; measurements: number };

export interface StoredPredictor {
  deviceId: string;
  kernelType: string;
  version: number;
  kind: string;
  data: unknown;
  trainingSamples: number;
  metrics: Record<string, number> | null;
  provenance: PredictorProvenance;
  createdAt: number;
}

interface PredictorRow {
  device_id: string;
  kernel_type: string;
  version: number;
  kind: string;
  data: string;
  training_samples: number;
  metrics: string | null;
  provenance: string;
  created_at: number;
}

const toPredictor = (r: PredictorRow): StoredPredictor => ({
  deviceId: r.device_id,
  kernelType: r.kernel_type,
  version: r.version,
  kind: r.kind,
  data: JSON.parse(r.data),
  trainingSamples: r.training_samples,
  metrics: r.metrics ? JSON.parse(r.metrics) : null,
  provenance: JSON.parse(r.provenance),
  createdAt: r.created_at,
});

/**
 * A device's measurements, found through its tasks (the (device_id, state, id) index) rather than by
 * a filter on measurements.device_id, which no index serves: that scanned every measurement of the
 * fleet once per device (bench:fleet: 370 s of CPU building predictors for 1,000 devices after one
 * campaign). A task has a measurement exactly when it is done.
 */
const DONE_TASKS_OF_DEVICE = `tasks t INDEXED BY tasks_by_device JOIN measurements m ON m.task_id = t.id
  JOIN campaigns c ON c.id = t.campaign_id
  WHERE t.device_id = ? AND t.state = 'done'`;

export class PredictorStore {
  /** runOverheadMs per device, with the measurement count it was read at. */
  private readonly overheads = new Map<string, { measured: number; ms: number }>();
  /** reorderCost per device, with the measurement count it was read at. */
  private readonly reorderCosts = new Map<string, { measured: number; cost: ReorderCost | undefined }>();

  private readonly db: StoreDatabase;
  /** Adaptations of devices and their progress (store/adaptations.ts). */
  readonly adaptations: Adaptations;

  constructor(store: Store) {
    this.db = connectionOf(store);
    this.adaptations = new Adaptations(this.db, store.events);
  }

  // --- kernel samples ---------------------------------------------------------------------

  /**
   * A device's kernel measurements by type, one per distinct config (the median where a config was
   * measured more than once), from campaigns of the given purposes. Full-data predictors leave out
   * adaptation campaigns: those are the adapted predictors' own data and held-out sets.
   */
  kernelSamples(
    deviceId: string,
    purposes: readonly CampaignPurpose[] = ['profile', 'starter-pool'],
  ): Map<string, { config: WireKernelConfig; latencyMs: number }[]> {
    const rows = this.db.sql(`SELECT t.config, m.latency_ms, c.purpose FROM ${DONE_TASKS_OF_DEVICE} ORDER BY t.id`).all(deviceId) as {
      config: string;
      latency_ms: number;
      purpose: CampaignPurpose;
    }[];
    const byConfig = new Map<string, number[]>();
    for (const r of rows) {
      if (!purposes.includes(r.purpose)) continue;
      const values = byConfig.get(r.config) ?? [];
      values.push(r.latency_ms);
      byConfig.set(r.config, values);
    }
    const out = new Map<string, { config: WireKernelConfig; latencyMs: number }[]>();
    for (const [key, values] of byConfig) {
      const config = JSON.parse(key) as WireKernelConfig;
      if (isArchitectureTask(config)) continue;
      const sorted = values.sort((a, b) => a - b);
      const samples = out.get(config.type) ?? [];
      samples.push({ config, latencyMs: sorted[Math.floor(sorted.length / 2)]! });
      out.set(config.type, samples);
    }
    return out;
  }

  /**
   * Whole architectures a device measured end to end (the fastest where measured more than once), from campaigns of the given purposes or
   * these campaigns.
   */
  architectureMeasurements(
    deviceId: string,
    from: { purposes?: readonly CampaignPurpose[]; campaigns?: readonly string[] },
  ): { space: string; seed: number; latencyMs: number }[] {
    const rows = this.db
      .sql(`SELECT t.config, m.latency_ms, c.purpose, c.id FROM ${DONE_TASKS_OF_DEVICE} AND m.kernel_type LIKE 'arch:%' ORDER BY t.id`)
      .all(deviceId) as { config: string; latency_ms: number; purpose: CampaignPurpose; id: string }[];
    const best = new Map<string, number>();
    for (const r of rows) {
      if (!(from.purposes?.includes(r.purpose) || from.campaigns?.includes(r.id))) continue;
      best.set(r.config, Math.min(best.get(r.config) ?? Infinity, r.latency_ms));
    }
    return [...best].map(([key, latencyMs]) => ({ ...architectureOf(JSON.parse(key) as WireKernelConfig), latencyMs }));
  }

  saveComposition(deviceId: string, data: unknown, metrics: Record<string, number> | null, provenance: Record<string, unknown>): number {
    return this.db.transaction(() => {
      const { v } = this.db.sql('SELECT COALESCE(MAX(version), 0) + 1 v FROM compositions WHERE device_id = ?').get(deviceId) as {
        v: number;
      };
      this.db
        .sql('INSERT INTO compositions (device_id, version, data, metrics, provenance, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(deviceId, v, JSON.stringify(data), metrics ? JSON.stringify(metrics) : null, JSON.stringify(provenance), Date.now());
      return v;
    });
  }

  /** A device's newest composition, if it has one. */
  latestComposition(
    deviceId: string,
  ):
    | { version: number; data: unknown; metrics: Record<string, number> | null; provenance: Record<string, unknown>; createdAt: number }
    | undefined {
    const r = this.db.sql('SELECT * FROM compositions WHERE device_id = ? ORDER BY version DESC LIMIT 1').get(deviceId) as
      { version: number; data: string; metrics: string | null; provenance: string; created_at: number } | undefined;
    return (
      r && {
        version: r.version,
        data: JSON.parse(r.data),
        metrics: r.metrics ? JSON.parse(r.metrics) : null,
        provenance: JSON.parse(r.provenance),
        createdAt: r.created_at,
      }
    );
  }

  /** A device's fusion rules (pair name -> fused) with the timings they were decided on. */
  saveFusionRules(deviceId: string, rules: Record<string, boolean>, timings: Record<string, [number, number, number]>): void {
    this.db
      .sql('INSERT OR REPLACE INTO fusion_rules (device_id, rules, timings, measured_at) VALUES (?, ?, ?, ?)')
      .run(deviceId, JSON.stringify(rules), JSON.stringify(timings), Date.now());
  }

  fusionRules(deviceId: string): Record<string, boolean> | undefined {
    const r = this.db.sql('SELECT rules FROM fusion_rules WHERE device_id = ?').get(deviceId) as { rules: string } | undefined;
    return r && JSON.parse(r.rules);
  }

  /** What session.run costs a device beyond its kernels (the median over its kernel measurements); 0 when unknown. */
  runOverheadMs(deviceId: string): number {
    // Every prediction asks; reading it means a JSON field of every measurement of the device, so
    // it is kept until the device's measurement counter moves.
    const measured =
      (this.db.sql('SELECT measured FROM device_measurements WHERE device_id = ?').get(deviceId) as { measured: number } | undefined)
        ?.measured ?? -1;
    const cached = this.overheads.get(deviceId);
    if (cached?.measured === measured) return cached.ms;
    const values = (
      this.db
        .sql(`SELECT json_extract(m.measurement, '$.boundary.runOverheadMs') v FROM ${DONE_TASKS_OF_DEVICE} AND v IS NOT NULL`)
        .all(deviceId) as { v: number }[]
    )
      .map((r) => r.v)
      .sort((a, b) => a - b);
    const ms = values.length ? values[Math.floor(values.length / 2)]! : 0;
    this.overheads.set(deviceId, { measured, ms });
    return ms;
  }

  /**
   * What a layout reorder costs the device by its bytes (reorder-cost.ts), read off its convs'
   * boundary reorders; undefined where it shows none (it does not run NCHWc). Kept until the
   * device's measurement counter moves, as runOverheadMs.
   */
  reorderCost(deviceId: string): ReorderCost | undefined {
    const measured =
      (this.db.sql('SELECT measured FROM device_measurements WHERE device_id = ?').get(deviceId) as { measured: number } | undefined)
        ?.measured ?? -1;
    const cached = this.reorderCosts.get(deviceId);
    if (cached?.measured === measured) return cached.cost;
    const rows = this.db
      .sql(
        `SELECT t.config, json_extract(m.measurement, '$.boundary.reorderInMs') i, json_extract(m.measurement, '$.boundary.reorderOutMs') o
      FROM ${DONE_TASKS_OF_DEVICE} AND (m.kernel_type LIKE 'conv%' OR m.kernel_type LIKE 'dwconv%')
      AND json_extract(m.measurement, '$.copies') IS NULL`,
      )
      .all(deviceId) as { config: string; i: number | null; o: number | null }[];
    const samples: { bytes: number; ms: number }[] = [];
    for (const r of rows) {
      let bytes: ReturnType<typeof convTensorBytes>;
      try {
        bytes = convTensorBytes(JSON.parse(r.config) as KernelConfig);
      } catch {
        continue; // a config the kernel library no longer takes
      }
      if (!bytes) continue;
      if (r.i) samples.push({ bytes: bytes.input, ms: r.i });
      if (r.o) samples.push({ bytes: bytes.output, ms: r.o });
    }
    const cost = fitReorderCost(samples);
    this.reorderCosts.set(deviceId, { measured, cost });
    return cost;
  }

  // --- predictors -------------------------------------------------------------------------

  /** Stores a new version of a device's predictor for one kernel type; returns the version. */
  savePredictors(items: readonly Omit<StoredPredictor, 'version' | 'createdAt'>[]): number[] {
    return this.db.transaction(() =>
      items.map((p) => {
        const { v } = this.db
          .sql('SELECT COALESCE(MAX(version), 0) + 1 v FROM predictors WHERE device_id = ? AND kernel_type = ?')
          .get(p.deviceId, p.kernelType) as { v: number };
        this.db
          .sql(
            'INSERT INTO predictors (device_id, kernel_type, version, kind, data, training_samples, metrics, provenance, ' +
              'created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          )
          .run(
            p.deviceId,
            p.kernelType,
            v,
            p.kind,
            JSON.stringify(p.data),
            p.trainingSamples,
            p.metrics ? JSON.stringify(p.metrics) : null,
            JSON.stringify(p.provenance),
            Date.now(),
          );
        return v;
      }),
    );
  }

  /** The newest version of every predictor (of one device, or of all). */
  latestPredictors(deviceId?: string): StoredPredictor[] {
    const rows = this.db
      .sql(
        `SELECT p.* FROM predictors p
        JOIN (SELECT device_id, kernel_type, MAX(version) version FROM predictors GROUP BY device_id, kernel_type) l
      USING (device_id, kernel_type, version) WHERE (@device IS NULL OR p.device_id = @device) ORDER BY p.device_id, p.kernel_type`,
      )
      .all({ device: deviceId ?? null }) as PredictorRow[];
    return rows.map(toPredictor);
  }

  /** The newest version of each of a device's predictors, as one string (no predictor is read): it changes whenever one is saved. */
  predictorStamp(deviceId: string): string {
    const rows = this.db
      .sql('SELECT kernel_type, MAX(version) v FROM predictors WHERE device_id = ? GROUP BY kernel_type ORDER BY kernel_type')
      .all(deviceId) as { kernel_type: string; v: number }[];
    return rows.map((r) => `${r.kernel_type}@${r.v}`).join(',');
  }

  /** Kernel types each device has a predictor for (from the key alone: no predictor is read). */
  predictorTypeCounts(): Map<string, number> {
    const rows = this.db.sql('SELECT device_id, COUNT(DISTINCT kernel_type) n FROM predictors GROUP BY device_id').all() as {
      device_id: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.device_id, r.n]));
  }

  getPredictor(deviceId: string, kernelType: string, version?: number): StoredPredictor {
    const row = (
      version === undefined
        ? this.db
            .sql('SELECT * FROM predictors WHERE device_id = ? AND kernel_type = ? ORDER BY version DESC LIMIT 1')
            .get(deviceId, kernelType)
        : this.db.sql('SELECT * FROM predictors WHERE device_id = ? AND kernel_type = ? AND version = ?').get(deviceId, kernelType, version)
    ) as PredictorRow | undefined;
    if (!row) {
      const have = this.latestPredictors(deviceId).map((p) => p.kernelType);
      throw new StoreError(
        'NOT_FOUND',
        `device ${deviceId} has no ${kernelType} predictor${version === undefined ? '' : ` version ${version}`}; ` +
          (have.length ? `it has: ${have.join(', ')}` : 'it has none yet (run litepred adapt, or a campaign)'),
      );
    }
    return toPredictor(row);
  }
}
