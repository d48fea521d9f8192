// Owner of the table adaptations: each adaptation of a device, its options, latest progress and outcome.
import { randomBytes } from 'node:crypto';
import type { FleetEvents } from '../events.js';
import type { StoreDatabase } from './database.js';
import { StoreError } from './secrets.js';

export type AdaptationState = 'running' | 'done' | 'failed' | 'cancelled';
export interface AdaptationOptions {
  /** Kernel measurements allowed. */
  budget: number;
  /** Share of held-out kernels within ±10% that ends the kernel loop early. */
  target: number;
  seed: number;
  /** Whole architectures measured end to end afterwards, to fit the device's composition (0: none). */
  models: number;
}
export interface Adaptation {
  id: string;
  deviceId: string;
  state: AdaptationState;
  options: AdaptationOptions;
  /** The latest progress event (phase, kernels measured, accuracy, source and why). */
  progress: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
}

interface AdaptationRow {
  id: string;
  device_id: string;
  state: AdaptationState;
  options: string;
  progress: string;
  result: string | null;
  error: string | null;
  created_at: number;
  finished_at: number | null;
}

const toAdaptation = (r: AdaptationRow): Adaptation => ({
  id: r.id,
  deviceId: r.device_id,
  state: r.state,
  options: JSON.parse(r.options),
  progress: JSON.parse(r.progress),
  result: r.result ? JSON.parse(r.result) : null,
  error: r.error,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

export class Adaptations {
  constructor(
    private readonly db: StoreDatabase,
    private readonly events: FleetEvents,
  ) {}

  create(deviceId: string, options: AdaptationOptions): Adaptation {
    const id = `adp_${randomBytes(6).toString('hex')}`;
    this.db
      .sql("INSERT INTO adaptations (id, device_id, state, options, progress, created_at) VALUES (?, ?, 'running', ?, ?, ?)")
      .run(id, deviceId, JSON.stringify(options), JSON.stringify({ phase: 'queued', measured: 0 }), Date.now());
    return this.get(id);
  }

  get(id: string): Adaptation {
    const row = this.db.sql('SELECT * FROM adaptations WHERE id = ?').get(id) as AdaptationRow | undefined;
    if (!row) throw new StoreError('NOT_FOUND', `no adaptation ${id}`);
    return toAdaptation(row);
  }

  list(filter: { deviceId?: string; state?: AdaptationState } = {}): Adaptation[] {
    return (
      this.db
        .sql(
          'SELECT * FROM adaptations WHERE (@device IS NULL OR device_id = @device) AND (@state IS NULL OR state = ' +
            '@state) ORDER BY created_at',
        )
        .all({ device: filter.deviceId ?? null, state: filter.state ?? null }) as AdaptationRow[]
    ).map(toAdaptation);
  }

  /** The adaptation's latest progress; a new phase is announced (adaptation.phase) once stored. */
  update(id: string, progress: Record<string, unknown>): void {
    const before = this.db.sql("SELECT json_extract(progress, '$.phase') phase FROM adaptations WHERE id = ?").get(id) as
      { phase: unknown } | undefined;
    const changes = this.db
      .sql("UPDATE adaptations SET progress = ? WHERE id = ? AND state = 'running'")
      .run(JSON.stringify(progress), id).changes;
    if (changes > 0 && typeof progress.phase === 'string' && progress.phase !== before?.phase)
      this.events.emit('adaptation.phase', id, progress.phase);
  }

  finish(id: string, outcome: { state: Exclude<AdaptationState, 'running'>; result?: Record<string, unknown>; error?: string }): void {
    const changes = this.db
      .sql("UPDATE adaptations SET state = ?, result = ?, error = ?, finished_at = ? WHERE id = ? AND state = 'running'")
      .run(outcome.state, outcome.result ? JSON.stringify(outcome.result) : null, outcome.error ?? null, Date.now(), id).changes;
    if (changes > 0) this.events.emit('adaptation.phase', id, outcome.state);
  }
}
