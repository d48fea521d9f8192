// Credentials are random 192-bit secrets; the store keeps only their SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto';

export const hash = (secret: string): string => createHash('sha256').update(secret).digest('hex');
export const newSecret = (prefix: string): string => `${prefix}_${randomBytes(24).toString('base64url')}`;

export class StoreError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'UNAUTHORIZED' | 'INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
