// The store's SQLite connection: created owner-only, WAL mode, schema migrations by user_version,
// statements prepared once per SQL text. Only the store's table owners hold it (the coordinator
// README lists which module writes which table); nothing outside the package can reach it.
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../schema.js';

export interface StoreOpenOptions {
  /** false: the coordinator checkpoints from a worker thread (checkpointer.ts). */
  autoCheckpoint?: boolean;
  /** A reader beside the coordinator's connection (build-worker.ts): no migrations, no writes. */
  readonly?: boolean;
}

export class StoreDatabase {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string, options: StoreOpenOptions = {}) {
    // Owner-only: the store holds credential hashes and the fleet's measurements. Created so before
    // SQLite opens it (SQLite gives its -wal and -shm files the database's mode); an older store is narrowed.
    if (!options.readonly && path !== ':memory:') {
      closeSync(openSync(path, 'a', 0o600));
      for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
    }
    this.db = new Database(path, { readonly: options.readonly ?? false });
    if (options.readonly) {
      this.db.pragma('busy_timeout = 5000');
      return;
    }
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable across a process crash in WAL mode (only an OS crash can lose the last commits).
    this.db.pragma('synchronous = NORMAL');
    if (options.autoCheckpoint === false) this.db.pragma('wal_autocheckpoint = 0');
    this.db.pragma('busy_timeout = 5000');
    // Off while migrating: a table rebuild drops a table that others reference. Checked before going on.
    this.db.pragma('foreign_keys = OFF');
    this.migrate();
    const broken = this.db.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0)
      throw new Error(`the database has ${broken.length} broken reference(s) after migrating (PRAGMA foreign_key_check)`);
    this.db.pragma('foreign_keys = ON');
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`the database is at schema version ${version}, newer than this litepred (${MIGRATIONS.length}); upgrade litepred`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Prepared once per SQL text: preparing costs more than running most statements here. */
  sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) this.statements.set(text, (st = this.db.prepare(text)));
    return st;
  }

  /** Runs fn in a transaction (a savepoint inside another one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The database file. */
  get path(): string {
    return this.db.name;
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    this.db.close();
  }
}

/** Each store's connection, for the table owners outside store.ts (predictor-store.ts). */
const connections = new WeakMap<object, StoreDatabase>();

export function registerConnection(store: object, db: StoreDatabase): void {
  connections.set(store, db);
}

export function connectionOf(store: object): StoreDatabase {
  const db = connections.get(store);
  if (!db) throw new Error('not a Store');
  return db;
}
