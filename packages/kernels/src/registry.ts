// The registry of kernel types and config validation: every config is checked here, with the
// offending field named, before any model is built.
import { CONFIG_FIELDS, KernelConfigError, type ConfigField, type KernelConfig, type KernelSpec, type ResolvedConfig } from './config.js';
import { convSpecs } from './specs/conv.js';
import { denseSpecs } from './specs/dense.js';
import { elementwiseSpecs } from './specs/elementwise.js';
import { transformerSpecs } from './specs/transformer.js';

const SPECS = new Map<string, KernelSpec>([...convSpecs, ...denseSpecs, ...elementwiseSpecs, ...transformerSpecs].map((s) => [s.type, s]));

export function kernelTypes(): string[] {
  return [...SPECS.keys()];
}

export function getKernelSpec(type: string): KernelSpec {
  const spec = SPECS.get(type);
  if (!spec) throw new KernelConfigError('type', `unknown kernel type '${type}'; known: ${kernelTypes().join(', ')}`);
  return spec;
}

export interface ValidateOptions {
  /** Largest activations + weights a kernel may need, in bytes (float32). Default 512 MiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

const elementsOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Bytes of the activations a kernel reads and writes (float32). */
export function activationBytes(c: ResolvedConfig): number {
  const spec = getKernelSpec(c.type);
  return 4 * [...spec.inputShapes(c), ...spec.outputShapes(c)].reduce((sum, s) => sum + elementsOf(s), 0);
}

/**
 * Checks a config and fills the fields its kernel type does not use with 0 (optional ones with
 * their defaults). Throws KernelConfigError naming the field on anything that cannot be built.
 */
export function resolveConfig(config: KernelConfig | Record<string, unknown>, options: ValidateOptions = {}): ResolvedConfig {
  if (config === null || typeof config !== 'object') throw new KernelConfigError('config', 'must be an object');
  const raw = config as Record<string, unknown>;
  if (typeof raw.type !== 'string') throw new KernelConfigError('type', 'is missing (a kernel type name such as conv-bn-relu)');
  const spec = getKernelSpec(raw.type);
  const allowed = new Set<string>(['type', ...spec.required, ...Object.keys(spec.optional ?? {})]);
  for (const key of Object.keys(raw)) {
    if (raw[key] === undefined) continue;
    if (!allowed.has(key)) {
      throw new KernelConfigError(key, `is not a field of ${spec.type} (its fields: ${[...allowed].slice(1).join(', ')})`);
    }
  }
  const resolved: Record<string, number | string> = { type: spec.type };
  for (const field of CONFIG_FIELDS) resolved[field] = 0;
  const take = (field: ConfigField, fallback?: number) => {
    const v = raw[field] ?? fallback;
    if (v === undefined) throw new KernelConfigError(field, `is required for ${spec.type}`);
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new KernelConfigError(field, `must be an integer (got ${JSON.stringify(v)})`);
    if (v < 0 || (v === 0 && fallback === undefined)) throw new KernelConfigError(field, `must be positive (got ${v})`);
    resolved[field] = v;
  };
  for (const field of spec.required) take(field);
  for (const [field, fallback] of Object.entries(spec.optional ?? {})) {
    take(field as ConfigField, typeof fallback === 'number' ? fallback : 0);
    if (typeof fallback === 'string' && resolved[field] === 0) resolved[field] = resolved[fallback]!;
  }
  const c = resolved as ResolvedConfig;
  spec.check?.(c);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const bytes = activationBytes(c) + 4 * spec.params(c);
  if (bytes > maxBytes) {
    throw new KernelConfigError(
      spec.required[0] ?? 'config',
      `tensors need ${(bytes / 2 ** 20).toFixed(1)} MiB, over the ${(maxBytes / 2 ** 20).toFixed(1)} MiB cap`,
    );
  }
  return c;
}

/**
 * The config with only the fields its kernel type uses, optional ones only where they differ from
 * their default: the canonical form stored and sent (so adding an optional field later keeps the
 * stored form of every existing config).
 */
export function compactConfig(c: ResolvedConfig): KernelConfig {
  const spec = getKernelSpec(c.type);
  const out: Record<string, number | string> = { type: c.type };
  for (const f of spec.required) out[f] = c[f];
  for (const [f, fallback] of Object.entries(spec.optional ?? {}) as [ConfigField, number | ConfigField][]) {
    if (c[f] !== (typeof fallback === 'number' ? fallback : c[fallback])) out[f] = c[f];
  }
  return out as KernelConfig;
}
