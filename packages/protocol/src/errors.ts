// Stable error codes: what an agent or operator can act on. Never renumber or rename one.
export const ErrorCode = {
  BAD_JSON: 'BAD_JSON',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  VERSION_MISMATCH: 'VERSION_MISMATCH',
  UNAUTHORIZED: 'UNAUTHORIZED',
  NOT_ENROLLED: 'NOT_ENROLLED',
  UNKNOWN_LEASE: 'UNKNOWN_LEASE',
  TOO_LARGE: 'TOO_LARGE',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes we use (4000-4999 is the application range). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 4002,
  UNAUTHORIZED: 4001,
  REPLACED: 4009,
} as const;
