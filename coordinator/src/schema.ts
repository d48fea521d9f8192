// The store's schema, as the migrations that build it: a database at user_version N has had the
// first N applied (store.ts runs the rest, each in its own transaction, foreign keys off).
export const MIGRATIONS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE enrolment_tokens (
     id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at INTEGER NOT NULL,
     expires_at INTEGER, max_uses INTEGER, uses INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE devices (
     id TEXT PRIMARY KEY, credential_hash TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL, token_id TEXT,
     enrolled_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE campaigns (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, protocol TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('running', 'done', 'cancelled')),
     created_at INTEGER NOT NULL, finished_at INTEGER);
   CREATE TABLE tasks (
     id INTEGER PRIMARY KEY AUTOINCREMENT, campaign_id TEXT NOT NULL REFERENCES campaigns(id),
     device_id TEXT NOT NULL REFERENCES devices(id),
     config TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'failed', 'cancelled')),
     lease_id TEXT, lease_expires_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, error TEXT);
   CREATE INDEX tasks_by_device ON tasks(device_id, state, id);
   CREATE INDEX tasks_by_campaign ON tasks(campaign_id, state);
   CREATE INDEX tasks_by_lease ON tasks(state, lease_expires_at);
   CREATE TABLE measurements (
     task_id INTEGER PRIMARY KEY REFERENCES tasks(id), campaign_id TEXT NOT NULL, device_id TEXT NOT NULL,
     kernel_type TEXT NOT NULL, latency_ms REAL NOT NULL, measurement TEXT NOT NULL, received_at INTEGER NOT NULL);
   CREATE INDEX measurements_by_campaign ON measurements(campaign_id, device_id);`,
  // Only leased tasks need finding by expiry: a partial index keeps every other state change cheap.
  `DROP INDEX tasks_by_lease;
   CREATE INDEX tasks_leased_by_expiry ON tasks(lease_expires_at) WHERE state = 'leased';`,
  // Predictors and adaptations (predictor-store.ts). A starter-pool device is measurements shipped
  // with litepred, not an agent: it has a credential nobody holds.
  `ALTER TABLE devices ADD COLUMN origin TEXT NOT NULL DEFAULT 'agent' CHECK (origin IN ('agent', 'starter-pool'));
   ALTER TABLE campaigns ADD COLUMN purpose TEXT NOT NULL DEFAULT 'profile';
   CREATE INDEX campaigns_by_name ON campaigns(name);
   CREATE TABLE predictors (
     device_id TEXT NOT NULL REFERENCES devices(id), kernel_type TEXT NOT NULL, version INTEGER NOT NULL,
     kind TEXT NOT NULL, data TEXT NOT NULL, training_samples INTEGER NOT NULL, metrics TEXT, provenance TEXT NOT NULL,
     created_at INTEGER NOT NULL, PRIMARY KEY (device_id, kernel_type, version));
   CREATE TABLE adaptations (
     id TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(id),
     state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
     options TEXT NOT NULL, progress TEXT NOT NULL, result TEXT, error TEXT, created_at INTEGER NOT NULL, finished_at INTEGER);`,
  // A device's composition: per-kernel-type in-network factors fitted on whole models measured end to end.
  // And its fusion rules (nn-Meter's test, run by an adaptation), which steer its decompositions.
  `CREATE TABLE compositions (
     device_id TEXT NOT NULL REFERENCES devices(id), version INTEGER NOT NULL, data TEXT NOT NULL, metrics TEXT, provenance TEXT NOT NULL,
     created_at INTEGER NOT NULL, PRIMARY KEY (device_id, version));
   CREATE TABLE fusion_rules (device_id TEXT PRIMARY KEY REFERENCES devices(id), rules TEXT NOT NULL, timings TEXT NOT NULL,
     measured_at INTEGER NOT NULL);`,
  // Leases moved to memory (leases.ts): tasks an older coordinator left 'leased' are pending again.
  `UPDATE tasks SET state = 'pending', lease_id = NULL, lease_expires_at = NULL WHERE state = 'leased';`,
  // A large campaign is created in steps (createCampaignInSteps), as 'creating' until its last task is in.
  // SQLite cannot change a CHECK in place: the table is rebuilt (foreign keys are off while migrating).
  `CREATE TABLE campaigns_v6 (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, protocol TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('creating', 'running', 'done', 'cancelled')),
     created_at INTEGER NOT NULL, finished_at INTEGER, purpose TEXT NOT NULL DEFAULT 'profile');
   INSERT INTO campaigns_v6 (id, name, protocol, state, created_at, finished_at, purpose)
     SELECT id, name, protocol, state, created_at, finished_at, purpose FROM campaigns;
   DROP TABLE campaigns;
   ALTER TABLE campaigns_v6 RENAME TO campaigns;
   CREATE INDEX campaigns_by_name ON campaigns(name);`,
  // The dashboard's counts: per-device measurement counters kept with every insert (counting and
  // reading each measurement's drift flag took 2.6 s at 420,000 measurements, every 2 s a dashboard
  // was open). Written to run again safely (the counts are recomputed from the measurements).
  `CREATE TABLE IF NOT EXISTS device_measurements (
     device_id TEXT PRIMARY KEY REFERENCES devices(id), measured INTEGER NOT NULL, drift_flagged INTEGER NOT NULL);
   INSERT OR REPLACE INTO device_measurements (device_id, measured, drift_flagged)
     SELECT device_id, COUNT(*), SUM(CASE WHEN json_extract(measurement, '$.drift.flagged') = 1 THEN 1 ELSE 0 END)
     FROM measurements GROUP BY device_id;`,
  // An adaptation's measurement rounds linked to it by column (they were found by their name,
  // 'adapt <id>: <phase>', which the older rows are read back from).
  `ALTER TABLE campaigns ADD COLUMN adaptation_id TEXT;
   ALTER TABLE campaigns ADD COLUMN adaptation_phase TEXT;
   UPDATE campaigns SET adaptation_id = substr(name, 7, instr(name, ': ') - 7), adaptation_phase = substr(name, instr(name, ': ') + 2)
     WHERE purpose = 'adaptation' AND name LIKE 'adapt %: %';
   CREATE INDEX campaigns_by_adaptation ON campaigns(adaptation_id, adaptation_phase) WHERE adaptation_id IS NOT NULL;`,
];
