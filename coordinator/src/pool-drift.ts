// Drift correction of a pool file: no longer applied to what the coordinator imports (it made the
// pool's kernels agree less often with their retests: docs/decisions.md); bench:collect's redo of
// drifted kernels and the benches' --drift-corrected still read it. A shared machine runs faster and slower by turns over a
// collection hours long (other tenants, our own other work), and a kernel's label carries the
// speed of the minute it was measured in: two measurements of the same kernel minutes apart agree
// far less often than two seconds apart (docs/benchmarks/collect.md). bench:collect therefore
// times a fixed set of reference kernels between every few dozen kernels (lines of kind
// 'reference', in file order). Contention does not slow every kernel alike: a memory-bound add
// slows several times as much as a convolution does at the same moment. So a line's drift is read
// off the reference whose arithmetic intensity (FLOPs per byte moved) is nearest its own,
// interpolated between the two around it on a log scale; its label is divided by it. The raw label
// stays in the file.
import { kernelCost, type KernelConfig } from '@litepred/kernels';

/** A record of a pool file (JSON line). */
type PoolLine = Record<string, any>;

/** Kinds of lines whose latency is corrected: what the machine measured between reference checks. */
const KERNEL_KINDS = new Set(['kernel', 'kernel-retest', 'kernel-retest-late']);
const MODEL_KINDS = new Set(['model', 'model-rounds', 'model-retest', 'model-rounds-retest']);

const referenceKey = (l: PoolLine) => JSON.stringify(l.config);

/** log of FLOPs per byte of activations and weights: where a kernel sits between memory- and compute-bound. */
function logIntensity(config: KernelConfig): number {
  const c = kernelCost(config);
  return Math.log(Math.max(1e-3, c.flops) / Math.max(1, c.activationBytes + 4 * c.params));
}

/** A reference check: each reference kernel's log-slowdown against its typical time, by intensity. */
interface Check {
  at: number;
  points: { x: number; logDrift: number }[];
}

/** The check's drift at intensity x: linear in log space between the references around it, flat beyond them. */
function driftAt(check: Check, x: number): number {
  const p = check.points;
  if (x <= p[0]!.x) return p[0]!.logDrift;
  for (let i = 1; i < p.length; i++) {
    if (x <= p[i]!.x) {
      const t = (x - p[i - 1]!.x) / (p[i]!.x - p[i - 1]!.x || 1);
      return p[i - 1]!.logDrift + t * (p[i]!.logDrift - p[i - 1]!.logDrift);
    }
  }
  return p.at(-1)!.logDrift;
}

/** Reference kernel (its config as JSON) to its typical time in ms. */
export type ReferenceTimes = Record<string, number>;

const isReference = (l: PoolLine) => l.kind === 'reference' && l.latencyMs > 0;

/**
 * Each reference kernel's typical time: the median over the file's checks. It moves as a file
 * grows (a resumed collection in a quieter hour pulls it down), so a judgement that must hold
 * across runs (bench:collect's redo of drifted kernels) pins it once and passes it back in.
 */
export function referenceTimes(lines: readonly PoolLine[]): ReferenceTimes {
  const byKernel = new Map<string, number[]>();
  for (const l of lines.filter(isReference)) {
    const times = byKernel.get(referenceKey(l)) ?? [];
    times.push(l.latencyMs);
    byKernel.set(referenceKey(l), times);
  }
  return Object.fromEntries([...byKernel].map(([k, v]) => [k, median(v)]));
}

function checksOf(lines: readonly PoolLine[], pinned?: ReferenceTimes): Check[] {
  const refs = lines.map((l, i) => ({ l, i })).filter(({ l }) => isReference(l));
  const typical = new Map(Object.entries({ ...referenceTimes(lines), ...pinned }));
  // Checks: runs of reference lines with nothing else between them.
  const checks: Check[] = [];
  let run: { l: PoolLine; i: number }[] = [];
  const close = () => {
    if (run.length === 0) return;
    const points = run.map(({ l }) => ({
      x: logIntensity(l.config as KernelConfig),
      logDrift: Math.log(l.latencyMs / typical.get(referenceKey(l))!),
    }));
    checks.push({ at: run[0]!.i, points: points.sort((a, b) => a.x - b.x) });
    run = [];
  };
  for (const r of refs) {
    if (run.length && r.i !== run.at(-1)!.i + 1) close();
    run.push(r);
  }
  close();
  return checks;
}

/**
 * The drift to divide each line's latency by (1 where the file has no references, and for lines
 * that are not measurements): the geometric mean of the checks before and after the line (the
 * nearest one before the first or after the last), each read at the kernel's intensity. A whole
 * architecture takes the checks' mean over their references. `typical` pins reference times
 * (those it lacks come from the file).
 */
export function driftFactors(lines: readonly PoolLine[], typical?: ReferenceTimes): number[] {
  const checks = checksOf(lines, typical);
  if (checks.length === 0) return lines.map(() => 1);
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < lines.length; i++) {
    while (next < checks.length && checks[next]!.at <= i) next++;
    const l = lines[i]!;
    const kernel = KERNEL_KINDS.has(l.kind),
      model = MODEL_KINDS.has(l.kind);
    if (!kernel && !model) {
      out.push(1);
      continue;
    }
    const x = kernel ? safeIntensity(l.config as KernelConfig) : undefined;
    const at = (c: Check) => (x === undefined ? c.points.reduce((s, p) => s + p.logDrift, 0) / c.points.length : driftAt(c, x));
    const around = [checks[next - 1], checks[next]].filter((c): c is Check => c !== undefined);
    out.push(Math.exp(around.reduce((s, c) => s + at(c), 0) / around.length));
  }
  return out;
}

function safeIntensity(config: KernelConfig): number | undefined {
  try {
    return logIntensity(config);
  } catch {
    return undefined;
  }
}

/**
 * The lines with drift-corrected latencies (latencyMs divided by the drift around it; the raw
 * label kept as rawLatencyMs and the factor as drift). A file without references comes back as it is.
 */
export function correctDrift<T extends PoolLine>(lines: readonly T[]): T[] {
  if (!lines.some((l) => l.kind === 'reference')) return [...lines];
  const factors = driftFactors(lines);
  return lines.map((l, i) =>
    (KERNEL_KINDS.has(l.kind) || MODEL_KINDS.has(l.kind)) && typeof l.latencyMs === 'number'
      ? { ...l, rawLatencyMs: l.latencyMs, drift: factors[i]!, latencyMs: l.latencyMs / factors[i]! }
      : l,
  );
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
