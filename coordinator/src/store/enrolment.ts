// Owner of the tables meta (the admin token's hash) and enrolment_tokens.
import { randomUUID } from 'node:crypto';
import type { StoreDatabase } from './database.js';
import { hash, newSecret, StoreError } from './secrets.js';

export interface EnrolmentToken {
  id: string;
  label: string;
  createdAt: number;
  expiresAt: number | null;
  maxUses: number | null;
  uses: number;
  state: 'valid' | 'expired' | 'used up' | 'revoked';
}

interface TokenRow {
  id: string;
  label: string;
  created_at: number;
  expires_at: number | null;
  max_uses: number | null;
  uses: number;
  revoked: number;
}

const enrols = (r: Pick<TokenRow, 'expires_at' | 'max_uses' | 'uses' | 'revoked'>, now: number) =>
  r.revoked === 0 && (r.expires_at === null || r.expires_at > now) && (r.max_uses === null || r.uses < r.max_uses);

export class Enrolment {
  constructor(private readonly db: StoreDatabase) {}

  /** Creates the admin token on first use; returns it only when it was just created. */
  ensureAdminToken(): string | undefined {
    if (this.db.sql("SELECT value FROM meta WHERE key = 'admin_token_hash'").get()) return undefined;
    const token = newSecret('lpa');
    this.db.sql("INSERT INTO meta (key, value) VALUES ('admin_token_hash', ?)").run(hash(token));
    return token;
  }

  isAdmin(token: string | undefined): boolean {
    if (!token) return false;
    const row = this.db.sql("SELECT value FROM meta WHERE key = 'admin_token_hash'").get() as { value: string } | undefined;
    return row?.value === hash(token);
  }

  createToken(options: { label?: string; ttlMs?: number; maxUses?: number } = {}): { id: string; token: string; expiresAt: number | null } {
    const token = newSecret('lpe');
    const id = randomUUID();
    const now = Date.now();
    const expiresAt = options.ttlMs ? now + options.ttlMs : null;
    this.db
      .sql('INSERT INTO enrolment_tokens (id, token_hash, label, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, hash(token), options.label ?? '', now, expiresAt, options.maxUses ?? null);
    return { id, token, expiresAt };
  }

  /** Every enrolment token (never the secret: only its hash is stored), newest first, with its uses and whether it still enrols. */
  listTokens(now = Date.now()): EnrolmentToken[] {
    const rows = this.db
      .sql('SELECT id, label, created_at, expires_at, max_uses, uses, revoked FROM enrolment_tokens ORDER BY created_at DESC, id')
      .all() as TokenRow[];
    return rows.map((r) => ({
      id: r.id,
      label: r.label,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      maxUses: r.max_uses,
      uses: r.uses,
      state: r.revoked
        ? 'revoked'
        : r.expires_at !== null && r.expires_at <= now
          ? 'expired'
          : r.max_uses !== null && r.uses >= r.max_uses
            ? 'used up'
            : 'valid',
    }));
  }

  revokeToken(id: string): void {
    if (this.db.sql('UPDATE enrolment_tokens SET revoked = 1 WHERE id = ?').run(id).changes === 0)
      throw new StoreError('NOT_FOUND', `no enrolment token ${id}`);
  }

  /** Whether a token still enrols, without using it up (the upgrade check). */
  checkToken(token: string): boolean {
    const row = this.db.sql('SELECT expires_at, max_uses, uses, revoked FROM enrolment_tokens WHERE token_hash = ?').get(hash(token)) as
      TokenRow | undefined;
    return !!row && enrols(row, Date.now());
  }

  /** Uses a token up by one; returns its id. In the caller's transaction (enrolDevice). */
  useToken(token: string): string {
    const row = this.db
      .sql('SELECT id, expires_at, max_uses, uses, revoked FROM enrolment_tokens WHERE token_hash = ?')
      .get(hash(token)) as TokenRow | undefined;
    if (!row || !enrols(row, Date.now()))
      throw new StoreError('UNAUTHORIZED', 'the enrolment token is unknown, expired, revoked or used up');
    this.db.sql('UPDATE enrolment_tokens SET uses = uses + 1 WHERE id = ?').run(row.id);
    return row.id;
  }
}
