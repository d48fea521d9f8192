// fleet.config.json: the default fleet. Validated with errors that name the field.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_PROTOCOL } from '@litepred/profiler';
import { MeasurementProtocolSchema, RuntimeOptionsSchema } from '@litepred/protocol';

export const FleetConfigSchema = z
  .object({
    listen: z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }).strict(),
    /** SQLite file, relative to the config file. */
    database: z.string().min(1),
    leaseMs: z.number().int().min(1000).default(120_000),
    heartbeatMs: z.number().int().min(100).default(10_000),
    /** How campaigns measure by default (absent: the profiler's DEFAULT_PROTOCOL). */
    protocol: MeasurementProtocolSchema.default(DEFAULT_PROTOCOL),
    /** Starter-pool measurements imported on start (a directory of JSONL, relative to the config file). */
    starterPool: z.string().min(1).optional(),
    /** Adapt every newly enrolled device at once, with this budget and target. */
    autoAdapt: z
      .object({ budget: z.number().int().positive(), target: z.number().gt(0).max(1) })
      .strict()
      .optional(),
    /** Agents the embedded default starts on this machine, one per runtime configuration. */
    localAgents: z.array(z.object({ runtime: RuntimeOptionsSchema }).strict()).default([]),
    /** Models with more nodes than this are refused by predict (413) before they are parsed. */
    maxModelNodes: z.number().int().positive().optional(),
  })
  .strict();

export type FleetConfig = z.infer<typeof FleetConfigSchema>;

export class FleetConfigError extends Error {
  constructor(
    file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${file}: ${field}: ${message}`);
    this.name = 'FleetConfigError';
  }
}

export function loadFleetConfig(file: string): FleetConfig & { file: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FleetConfigError(
      file,
      '(file)',
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `not valid JSON: ${(e as Error).message}`,
    );
  }
  const parsed = FleetConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = [...issue.path, ...('keys' in issue ? (issue.keys as string[]) : [])].join('.') || '(root)';
    throw new FleetConfigError(file, field, issue.message);
  }
  const config = parsed.data;
  const near = (p: string) => (isAbsolute(p) ? p : resolve(dirname(file), p));
  return {
    ...config,
    database: near(config.database),
    starterPool: config.starterPool === undefined ? undefined : near(config.starterPool),
    file,
  };
}
