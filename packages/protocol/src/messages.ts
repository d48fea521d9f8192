// The messages, as zod schemas; the TypeScript types are inferred from them so the two never drift.
// What is also a type of a lower package (a kernel config, a measurement, a runtime, a protocol) is
// that package's type: its schema here is checked against it both ways at compile time (Same<>), so
// the wire and the profiler cannot disagree and nothing is cast between them.
import type { KernelConfig } from '@litepred/kernels';
import { CONFIG_FIELDS } from '@litepred/kernels';
import type { Measurement, MeasurementProtocol, RuntimeOptions as ProfilerRuntimeOptions } from '@litepred/profiler';
import { z } from 'zod';

/** true only where A and B are the same type (each assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export const PROTOCOL_VERSION = 2;

/**
 * A browser cannot set headers on a WebSocket but can offer subprotocols, which travel in the
 * Sec-WebSocket-Protocol header: the browser agent offers `litepred.<version>` and its secret as
 * `litepred-credential.<lpd_...>` or `litepred-token.<lpe_...>`; the coordinator selects the first.
 * (The Node agent sends Authorization and X-Litepred-Protocol headers.) Never in the URL, which
 * ends up in logs and histories.
 */
export const subprotocolVersion = (version = PROTOCOL_VERSION) => `litepred.${version}`;
export const subprotocolSecret = (secret: string) => `${secret.startsWith('lpd_') ? 'litepred-credential' : 'litepred-token'}.${secret}`;
/** What an upgrade's Sec-WebSocket-Protocol header offers: the protocol version and the secret, where present. */
export function readSubprotocols(header: string | undefined): { version?: number; credential?: string; token?: string } {
  const offered = (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const value = (prefix: string) => offered.find((p) => p.startsWith(prefix))?.slice(prefix.length);
  const version = value('litepred.');
  return {
    version: version === undefined ? undefined : Number(version),
    credential: value('litepred-credential.'),
    token: value('litepred-token.'),
  };
}
/** Frames larger than this are refused by both sides (a results batch of 256 measurements fits). */
export const MAX_FRAME_BYTES = 1024 * 1024;
export const MAX_RESULTS_PER_FRAME = 256;
export const MAX_TASKS_PER_LEASE = 64;

const id = z.string().min(1).max(128);
const positiveInt = z.number().int().positive();

export const RuntimeOptionsSchema = z.object({
  backend: z.enum(['ort-node', 'ort-web']),
  threads: positiveInt.max(256),
  graphOptimizationLevel: z.enum(['disabled', 'basic', 'extended', 'all']),
  /** onnxruntime-web only: wasm (the default) or webgpu. */
  executionProvider: z.enum(['wasm', 'webgpu']).optional(),
});

/** What a device is: recorded at enrolment, shown by `litepred device list`. */
export const FingerprintSchema = z.object({
  cpuModel: z.string().max(256),
  cores: positiveInt.max(4096),
  arch: z.string().max(64),
  os: z.string().max(256),
  memoryBytes: z.number().nonnegative(),
  runtime: RuntimeOptionsSchema,
  runtimeVersion: z.string().max(64),
  executionProvider: z.string().max(64),
  hostname: z.string().max(256).optional(),
  userAgent: z.string().max(512).optional(),
  /** Browsers: the WebGPU adapter (vendor, architecture, description), where the browser has WebGPU. */
  gpuAdapter: z.string().max(512).optional(),
  /** Browsers: whether the page is cross-origin isolated (wasm threads need it). */
  crossOriginIsolated: z.boolean().optional(),
});

export const MeasurementProtocolSchema = z.object({
  warmupRuns: positiveInt.max(10_000),
  warmupMs: z.number().nonnegative().max(600_000),
  minRuns: positiveInt.max(100_000),
  maxRuns: positiveInt.max(100_000),
  maxMs: z.number().positive().max(3_600_000),
  targetPrecision: z.number().positive().max(1),
  /** Measurements per kernel, interleaved across a lease's kernels; the fastest is kept (absent: 1). */
  rounds: positiveInt.max(20).optional(),
});

const configFields = Object.fromEntries(CONFIG_FIELDS.map((f) => [f, z.number().int().optional()])) as Record<
  (typeof CONFIG_FIELDS)[number],
  z.ZodOptional<z.ZodNumber>
>;
/**
 * A kernel config on the wire: a type and the kernel library's integer fields, nothing else (the
 * kernel library validates which of them the type takes); SEED only for architecture tasks.
 */
export const KernelConfigSchema = z.strictObject({ type: z.string().min(1).max(64), ...configFields, SEED: z.number().int().optional() });

const StatsSchema = z.object({
  n: z.number(),
  median: z.number(),
  p10: z.number(),
  p90: z.number(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  std: z.number(),
  iqm: z.number(),
  q1mean: z.number(),
});

/** The profiler's measurement, as an agent reports it. */
export const MeasurementSchema = z.object({
  config: KernelConfigSchema,
  latencyMs: z.number().nonnegative(),
  statistic: z.enum(['median', 'iqm', 'q1mean', 'min']),
  kernel: StatsSchema,
  wall: StatsSchema,
  boundary: z.object({
    reorderInMs: z.number(),
    reorderOutMs: z.number(),
    sinkMs: z.number(),
    runOverheadMs: z.number(),
    coldWeightsMs: z.number(),
  }),
  method: z.enum(['node-profile', 'paired-null-difference']),
  profileNodeOverheadUs: z.number().optional(),
  warmupRuns: z.number(),
  converged: z.boolean(),
  sessionCreateMs: z.number(),
  runtime: RuntimeOptionsSchema.extend({ runtimeVersion: z.string(), executionProvider: z.string() }),
  measuredAt: z.string(),
  drift: z.object({ ratioBefore: z.number(), ratioAfter: z.number(), flagged: z.boolean() }).optional(),
  throttle: z
    .object({
      minFreqRatio: z.number().min(0).max(10).optional(),
      maxTempC: z.number().min(-100).max(300).optional(),
      flagged: z.boolean(),
    })
    .optional(),
  roundLatenciesMs: z.array(z.number()).min(2).max(20).optional(),
  copies: z.number().int().min(2).max(1024).optional(),
});

/**
 * A whole architecture as a task: `{ type: 'arch:<space>', SEED: n }` (the wire's kernel-config
 * shape; both sides rebuild it with sampleArchitecture). Timed end to end in `rounds` short
 * rounds interleaved with the lease's other architectures; latencyMs is the fastest round's median.
 */
export const ARCHITECTURE_PREFIX = 'arch:';
export const isArchitectureTask = (config: { type: string }) => config.type.startsWith(ARCHITECTURE_PREFIX);
export const architectureTask = (space: string, seed: number): WireKernelConfig => ({ type: `${ARCHITECTURE_PREFIX}${space}`, SEED: seed });
export function architectureOf(config: WireKernelConfig): { space: string; seed: number } {
  if (!isArchitectureTask(config) || config.SEED === undefined)
    throw new Error(`not an architecture task (want { type: '${ARCHITECTURE_PREFIX}<space>', SEED: n }): ${JSON.stringify(config)}`);
  return { space: config.type.slice(ARCHITECTURE_PREFIX.length), seed: config.SEED };
}

export const ModelMeasurementSchema = z.object({
  kind: z.literal('model'),
  config: KernelConfigSchema,
  latencyMs: z.number().positive(),
  /** Median wall time per run in each round. */
  roundMedians: z.array(z.number().positive()).min(1).max(100),
  kernels: z.number().int().nonnegative(),
  sessionCreateMs: z.number(),
  runtime: RuntimeOptionsSchema.extend({ runtimeVersion: z.string(), executionProvider: z.string() }),
  measuredAt: z.string(),
});

export const TaskResultSchema = z
  .object({
    taskId: positiveInt,
    leaseId: id,
    measurement: z.union([MeasurementSchema, ModelMeasurementSchema]).optional(),
    /** Set instead of measurement when the kernel could not be measured (invalid on this runtime, crashed). */
    error: z.string().max(2000).optional(),
  })
  .refine((r) => (r.measurement === undefined) !== (r.error === undefined), { message: 'exactly one of measurement and error' });

export const AgentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), v: z.number().int(), fingerprint: FingerprintSchema, agentVersion: z.string().max(64) }),
  z.object({ type: z.literal('lease.request'), capacity: positiveInt.max(MAX_TASKS_PER_LEASE) }),
  z.object({ type: z.literal('results'), items: z.array(TaskResultSchema).min(1).max(MAX_RESULTS_PER_FRAME) }),
  z.object({ type: z.literal('heartbeat'), t: z.number() }),
]);

export const CoordinatorMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('welcome'), v: z.number().int(), deviceId: id, credential: z.string().optional(), heartbeatMs: positiveInt }),
  z.object({
    type: z.literal('lease'),
    leaseId: id,
    campaignId: id,
    expiresAt: z.number(),
    protocol: MeasurementProtocolSchema,
    tasks: z
      .array(z.object({ taskId: positiveInt, config: KernelConfigSchema }))
      .min(1)
      .max(MAX_TASKS_PER_LEASE),
  }),
  z.object({ type: z.literal('idle'), retryMs: positiveInt }),
  z.object({ type: z.literal('ack'), taskIds: z.array(positiveInt) }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
  z.object({ type: z.literal('heartbeat'), t: z.number() }),
]);

export type RuntimeOptions = ProfilerRuntimeOptions;
export type Fingerprint = z.infer<typeof FingerprintSchema>;
export type WireMeasurementProtocol = MeasurementProtocol;
/** A kernel config, or an architecture task's { type: 'arch:<space>', SEED }. */
export type WireKernelConfig = KernelConfig & { readonly SEED?: number };
export type WireMeasurement = Measurement;
export type WireModelMeasurement = z.infer<typeof ModelMeasurementSchema>;
export type TaskResult = z.infer<typeof TaskResultSchema>;
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
export type CoordinatorMessage = z.infer<typeof CoordinatorMessageSchema>;

// The compile-time checks: a field added to one side and not the other fails the build here.
export const WIRE_TYPES_MATCH: [
  Same<z.infer<typeof RuntimeOptionsSchema>, ProfilerRuntimeOptions>,
  Same<z.infer<typeof MeasurementProtocolSchema>, MeasurementProtocol>,
  Same<z.infer<typeof KernelConfigSchema>, WireKernelConfig>,
  Same<z.infer<typeof MeasurementSchema>, Measurement>,
] = [true, true, true, true];
