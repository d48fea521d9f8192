// Drift correction of a pool file. A shared machine runs faster and slower by turns over a
// collection hours long (other tenants, our own other work), and a kernel's label carries the
// speed of the minute it was measured in: two measurements of the same kernel minutes apart agree
// far less often than two seconds apart (docs/benchmarks/collect.md). bench:collect therefore
// times a fixed set of reference kernels between every few dozen kernels (lines of kind
// 'reference', in file order); a line's drift is how much slower the references ran around it than
// they do typically, and its label is divided by it. The raw label stays in the file.

/** A record of a pool file (JSON line). */
type PoolLine = Record<string, any>;

/** Kinds of lines whose latency is corrected: what the machine measured between reference checks. */
const CORRECTED = new Set(['kernel', 'kernel-retest', 'kernel-retest-late', 'model', 'model-rounds', 'model-retest', 'model-rounds-retest']);

const referenceKey = (l: PoolLine) => JSON.stringify(l.config);

/**
 * Each reference check's speed relative to the file's typical: consecutive reference lines form one
 * check; its drift is the geometric mean, over its kernels, of latency / that kernel's median over
 * the file. Returns, per line index, the drift to divide by (1 where the file has no references).
 */
export function driftFactors(lines: readonly PoolLine[]): number[] {
  const refs = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.kind === 'reference' && l.latencyMs > 0);
  if (refs.length === 0) return lines.map(() => 1);
  const byKernel = new Map<string, number[]>();
  for (const { l } of refs) {
    const times = byKernel.get(referenceKey(l)) ?? [];
    times.push(l.latencyMs);
    byKernel.set(referenceKey(l), times);
  }
  const typical = new Map([...byKernel].map(([k, v]) => [k, median(v)]));
  // Checks: runs of reference lines with nothing else between them.
  const checks: { at: number; drift: number }[] = [];
  let run: { l: PoolLine; i: number }[] = [];
  const close = () => {
    if (run.length === 0) return;
    const logs = run.map(({ l }) => Math.log(l.latencyMs / typical.get(referenceKey(l))!));
    checks.push({ at: run[0]!.i, drift: Math.exp(logs.reduce((s, v) => s + v, 0) / logs.length) });
    run = [];
  };
  for (const r of refs) {
    if (run.length && r.i !== run.at(-1)!.i + 1) close();
    run.push(r);
  }
  close();
  // A line between two checks gets the geometric mean of both; before the first or after the last, the nearest.
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < lines.length; i++) {
    while (next < checks.length && checks[next]!.at <= i) next++;
    const before = checks[next - 1], after = checks[next];
    out.push(before && after ? Math.sqrt(before.drift * after.drift) : (before ?? after)!.drift);
  }
  return out;
}

/**
 * The lines with drift-corrected latencies (latencyMs divided by the drift around it; the raw
 * label kept as rawLatencyMs and the factor as drift). Lines of a file without references come back
 * unchanged.
 */
export function correctDrift<T extends PoolLine>(lines: readonly T[]): T[] {
  if (!lines.some((l) => l.kind === 'reference')) return [...lines];
  const factors = driftFactors(lines);
  return lines.map((l, i) => (CORRECTED.has(l.kind) && typeof l.latencyMs === 'number'
    ? { ...l, rawLatencyMs: l.latencyMs, drift: factors[i]!, latencyMs: l.latencyMs / factors[i]! }
    : l));
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
