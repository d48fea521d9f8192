// Raw frame -> typed message, or an error code with a message that names what is wrong.
import type { z } from 'zod';
import { ErrorCode } from './errors.js';
import { AgentMessageSchema, CoordinatorMessageSchema, MAX_FRAME_BYTES, type AgentMessage, type CoordinatorMessage } from './messages.js';

export type Parsed<T> = { ok: true; message: T } | { ok: false; code: ErrorCode; error: string };

// Buffer where there is one (the coordinator's hot path); the browser agent has TextEncoder.
const encoder = typeof Buffer === 'undefined' ? new TextEncoder() : undefined;
const byteLength = (text: string) => (encoder ? encoder.encode(text).length : Buffer.byteLength(text));

function parseWith<T>(schema: z.ZodType<T>, types: readonly string[], raw: string | Buffer): Parsed<T> {
  const size = typeof raw === 'string' ? byteLength(raw) : raw.length;
  if (size > MAX_FRAME_BYTES)
    return { ok: false, code: ErrorCode.TOO_LARGE, error: `frame of ${size} bytes is over the ${MAX_FRAME_BYTES}-byte limit` };
  let value: unknown;
  try {
    value = JSON.parse(raw.toString());
  } catch (e) {
    return { ok: false, code: ErrorCode.BAD_JSON, error: `not valid JSON: ${(e as Error).message}` };
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !types.includes(type)) {
    return {
      ok: false,
      code: ErrorCode.UNKNOWN_TYPE,
      error: `unknown message type ${JSON.stringify(type)}; expected one of ${types.join(', ')}`,
    };
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, code: ErrorCode.INVALID_MESSAGE, error: `${type}: ${issue.path.join('.') || '(message)'}: ${issue.message}` };
  }
  return { ok: true, message: result.data };
}

const AGENT_TYPES = AgentMessageSchema.options.map((o) => o.shape.type.value);
const COORDINATOR_TYPES = CoordinatorMessageSchema.options.map((o) => o.shape.type.value);

export const parseAgentMessage = (raw: string | Buffer): Parsed<AgentMessage> => parseWith(AgentMessageSchema, AGENT_TYPES, raw);
export const parseCoordinatorMessage = (raw: string | Buffer): Parsed<CoordinatorMessage> =>
  parseWith(CoordinatorMessageSchema, COORDINATOR_TYPES, raw);

/** Serialises a message; typed so only valid shapes compile. */
export const encode = (message: AgentMessage | CoordinatorMessage): string => JSON.stringify(message);

type LeaseMessage = Extract<CoordinatorMessage, { type: 'lease' }>;

/** A lease's task with its config already serialised (JSON.stringify of the config). */
export interface EncodedTask {
  taskId: number;
  configJson: string;
}

/**
 * The text encode() gives for this lease, assembled from configs serialised beforehand: a
 * coordinator serialises each distinct config of a campaign once instead of in every lease (when
 * 1,000 agents ask at once, the last answer waits for all the others).
 */
export function encodeLease(lease: Omit<LeaseMessage, 'type' | 'tasks'>, tasks: readonly EncodedTask[]): string {
  const head = JSON.stringify({
    type: 'lease',
    leaseId: lease.leaseId,
    campaignId: lease.campaignId,
    protocol: lease.protocol,
    expiresAt: lease.expiresAt,
  });
  let body = '';
  for (const t of tasks) body += `${body ? ',' : ''}{"taskId":${JSON.stringify(t.taskId)},"config":${t.configJson}}`;
  return `${head.slice(0, -1)},"tasks":[${body}]}`;
}
