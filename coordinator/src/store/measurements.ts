// Owner of the tables measurements (one per task, keyed by it) and device_measurements (each
// device's counters), and of the per-second counts of recent results kept in memory.
import type { StoreDatabase } from './database.js';

/** How far back resultsSince can look. */
const RECENT_SECONDS = 300;

export interface StoredMeasurement {
  taskId: number;
  campaignId: string;
  deviceId: string;
  kernelType: string;
  latencyMs: number;
  measurement: unknown;
  receivedAt: number;
}

interface MeasurementRow {
  task_id: number;
  campaign_id: string;
  device_id: string;
  kernel_type: string;
  latency_ms: number;
  measurement: string;
  received_at: number;
}

export class Measurements {
  /** Measurements stored per campaign and second, for the last RECENT_SECONDS (resultsSince). */
  private readonly recent = new Map<string, Map<number, number>>();

  constructor(private readonly db: StoreDatabase) {}

  /**
   * Stores a task's measurement unless it has one (a result that arrives twice is stored once);
   * whether it was stored. In the caller's transaction, which also counts it (count()).
   */
  insert(m: StoredMeasurement): boolean {
    return (
      this.db
        .sql(
          `INSERT OR IGNORE INTO measurements (task_id, campaign_id, device_id, kernel_type, latency_ms, measurement, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(m.taskId, m.campaignId, m.deviceId, m.kernelType, m.latencyMs, JSON.stringify(m.measurement), m.receivedAt).changes > 0
    );
  }

  /** Adds to a device's measurement counters, in the transaction that inserted them. */
  count(deviceId: string, measured: number, driftFlagged: number): void {
    this.db
      .sql(
        `INSERT INTO device_measurements (device_id, measured, drift_flagged) VALUES (?, ?, ?)
      ON CONFLICT (device_id) DO UPDATE SET measured = measured + excluded.measured,
      drift_flagged = drift_flagged + excluded.drift_flagged`,
      )
      .run(deviceId, measured, driftFlagged);
  }

  /** Measurements per device and how many of them were taken while the drift check flagged the device. */
  counts(): Map<string, { measured: number; driftFlagged: number }> {
    const rows = this.db.sql('SELECT device_id, measured, drift_flagged FROM device_measurements').all() as {
      device_id: string;
      measured: number;
      drift_flagged: number;
    }[];
    return new Map(rows.map((r) => [r.device_id, { measured: r.measured, driftFlagged: r.drift_flagged }]));
  }

  /**
   * The measurements in task order, read a page at a time (each page its own query, so no cursor
   * stays open on the connection while a caller waits on a slow client between pages).
   */
  *pages(filter: { campaignId?: string; deviceId?: string } = {}, pageSize = 2000): Generator<StoredMeasurement> {
    const page = this.db.sql(`SELECT * FROM measurements WHERE task_id > @after AND (@campaign IS NULL OR campaign_id = @campaign)
      AND (@device IS NULL OR device_id = @device) ORDER BY task_id LIMIT @limit`);
    for (let after = -1; ;) {
      const rows = page.all({
        after,
        limit: pageSize,
        campaign: filter.campaignId ?? null,
        device: filter.deviceId ?? null,
      }) as MeasurementRow[];
      for (const r of rows)
        yield {
          taskId: r.task_id,
          campaignId: r.campaign_id,
          deviceId: r.device_id,
          kernelType: r.kernel_type,
          latencyMs: r.latency_ms,
          measurement: JSON.parse(r.measurement),
          receivedAt: r.received_at,
        };
      if (rows.length < pageSize) return;
      after = rows.at(-1)!.task_id;
    }
  }

  /** Measurements of a campaign: how many, and of how many distinct tasks. */
  ofCampaign(campaignId: string): { measurements: number; distinctTasks: number } {
    const m = this.db.sql('SELECT COUNT(*) n, COUNT(DISTINCT task_id) d FROM measurements WHERE campaign_id = ?').get(campaignId) as {
      n: number;
      d: number;
    };
    return { measurements: m.n, distinctTasks: m.d };
  }

  /** Counts results stored for a campaign now (after their commit), for resultsSince. */
  countRecent(campaignId: string, stored: number, now: number): void {
    const second = Math.floor(now / 1000);
    let seconds = this.recent.get(campaignId);
    if (!seconds) this.recent.set(campaignId, (seconds = new Map()));
    seconds.set(second, (seconds.get(second) ?? 0) + stored);
    if (seconds.size > RECENT_SECONDS) for (const s of seconds.keys()) if (s <= second - RECENT_SECONDS) seconds.delete(s);
  }

  /**
   * Measurements stored per campaign since a time (at most RECENT_SECONDS ago), from per-second
   * counts kept in memory as results are stored: a query over the last minute's rows walked every
   * one of them at saturation (docs/decisions.md). A new process counts from its start.
   */
  since(since: number): Map<string, number> {
    const from = Math.floor(since / 1000);
    const out = new Map<string, number>();
    const oldest = Math.floor(Date.now() / 1000) - RECENT_SECONDS;
    for (const [campaignId, seconds] of this.recent) {
      let n = 0;
      let newest = -Infinity;
      for (const [second, count] of seconds) {
        if (second >= from) n += count;
        newest = Math.max(newest, second);
      }
      if (n > 0) out.set(campaignId, n);
      if (newest < oldest) this.recent.delete(campaignId); // nothing stored for it lately
    }
    return out;
  }
}
