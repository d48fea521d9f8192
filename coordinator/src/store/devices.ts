// Owner of the table devices: enrolled agents and imported starter-pool configurations.
import { randomBytes } from 'node:crypto';
import type { Fingerprint } from '@litepred/protocol';
import type { StoreDatabase } from './database.js';
import { hash, newSecret, StoreError } from './secrets.js';

export interface Device {
  id: string;
  fingerprint: Fingerprint;
  enrolledAt: number;
  lastSeenAt: number;
  revoked: boolean;
  origin: 'agent' | 'starter-pool';
}

interface DeviceRow {
  id: string;
  fingerprint: string;
  enrolled_at: number;
  last_seen_at: number;
  revoked: number;
  origin: Device['origin'];
}

const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  fingerprint: JSON.parse(r.fingerprint),
  enrolledAt: r.enrolled_at,
  lastSeenAt: r.last_seen_at,
  revoked: r.revoked === 1,
  origin: r.origin,
});

export class Devices {
  constructor(private readonly db: StoreDatabase) {}

  /** A new device enrolled with the token of that id: its id and its credential (given once, stored as a hash). */
  add(tokenId: string, fingerprint: Fingerprint): { deviceId: string; credential: string } {
    const deviceId = `dev_${randomBytes(6).toString('hex')}`;
    const credential = newSecret('lpd');
    const now = Date.now();
    this.db
      .sql('INSERT INTO devices (id, credential_hash, fingerprint, token_id, enrolled_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(deviceId, hash(credential), JSON.stringify(fingerprint), tokenId, now, now);
    return { deviceId, credential };
  }

  /** A starter-pool configuration as a device; false (and nothing changed) when it is already there. */
  addImported(deviceId: string, fingerprint: Fingerprint, measuredAt: number): boolean {
    if (this.db.sql('SELECT 1 FROM devices WHERE id = ?').get(deviceId)) return false;
    // A credential nobody is given: a pool device never connects.
    this.db
      .sql(
        "INSERT INTO devices (id, credential_hash, fingerprint, enrolled_at, last_seen_at, origin) VALUES (?, ?, ?, ?, ?, 'starter-pool')",
      )
      .run(deviceId, hash(newSecret('none')), JSON.stringify(fingerprint), measuredAt, measuredAt);
    return true;
  }

  /** The device a credential belongs to, unless unknown or revoked. */
  authenticate(credential: string): Device | undefined {
    const row = this.db.sql('SELECT * FROM devices WHERE credential_hash = ? AND revoked = 0').get(hash(credential)) as
      DeviceRow | undefined;
    return row ? toDevice(row) : undefined;
  }

  updateFingerprint(deviceId: string, fingerprint: Fingerprint): void {
    this.db.sql('UPDATE devices SET fingerprint = ?, last_seen_at = ? WHERE id = ?').run(JSON.stringify(fingerprint), Date.now(), deviceId);
  }

  touch(deviceId: string): void {
    this.db.sql('UPDATE devices SET last_seen_at = ? WHERE id = ?').run(Date.now(), deviceId);
  }

  /** Marks a device revoked: its credential stops working. */
  revoke(deviceId: string): void {
    if (this.db.sql('UPDATE devices SET revoked = 1 WHERE id = ?').run(deviceId).changes === 0)
      throw new StoreError('NOT_FOUND', `no device ${deviceId}`);
  }

  list(): Device[] {
    return (this.db.sql('SELECT * FROM devices ORDER BY enrolled_at').all() as DeviceRow[]).map(toDevice);
  }

  get(deviceId: string): Device {
    const row = this.db.sql('SELECT * FROM devices WHERE id = ?').get(deviceId) as DeviceRow | undefined;
    if (!row) throw new StoreError('NOT_FOUND', `no device ${deviceId}`);
    return toDevice(row);
  }
}
