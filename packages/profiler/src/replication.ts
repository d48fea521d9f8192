// Kernels near the timer's resolution are timed as copies of themselves (see the README): how
// many copies, and their statistics as one copy's.
import { getKernelSpec, kernelCost, replication, resolveConfig, type KernelConfig } from '@litepred/kernels';
import type { Stats } from './stats.js';

/** 100 steps of ORT's 1 µs node profile. */
export const REPLICATION_SPAN_MS = 0.1;
/** At most this many copies: a kernel of a few nanoseconds is labelled from a span shorter than the target, not from thousands of nodes. */
export const MAX_COPIES = 128;

/**
 * The copies read this many bytes of their own at most together (each copy's inputs where they have
 * their own, each copy's weights always), so what a single kernel finds in cache from run to run
 * the copies find too: many copies each with weights of its own read them from memory, and each
 * copy then took several times as long as the kernel alone (docs/decisions.md).
 */
export const MAX_REPLICA_BYTES = 512 * 1024;

/**
 * How many copies of a kernel of `ms` span `spanMs` (1: none needed), at most MAX_COPIES and, with
 * `bytesPerCopy` of inputs and weights of each copy's own, at most MAX_REPLICA_BYTES together.
 */
export function copiesFor(ms: number, spanMs: number, bytesPerCopy = 0): number {
  if (!(spanMs > 0) || ms >= spanMs) return 1;
  const cap = bytesPerCopy > 0 ? Math.min(MAX_COPIES, Math.floor(MAX_REPLICA_BYTES / bytesPerCopy)) : MAX_COPIES;
  const want = Math.ceil(spanMs / Math.max(ms, spanMs / MAX_COPIES));
  return cap < 2 ? 1 : Math.min(cap, Math.max(2, want));
}

/** Statistics of a sum of `copies` copies as statistics of one. */
export function perCopy(s: Stats, copies: number): Stats {
  const out = { ...s };
  for (const k of Object.keys(out) as (keyof Stats)[]) if (k !== 'n') out[k] = s[k] / copies;
  return out;
}

/** What each copy of a kernel reads of its own: its inputs where copies sit on inputs of their own, its weights always (bytes). */
export function bytesPerCopy(config: KernelConfig): number {
  const c = resolveConfig(config);
  const inputs =
    replication(config) === 'own-inputs'
      ? 4 *
        getKernelSpec(c.type)
          .inputShapes(c)
          .reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0)
      : 0;
  return inputs + 4 * kernelCost(config).params;
}
