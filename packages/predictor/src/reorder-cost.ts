// What a layout reorder costs a device, by the bytes it copies: read off the device's own kernel
// measurements (each standalone conv's boundary reorders, profiler boundary.reorderInMs/OutMs, with
// the tensor it reordered), as the median per power of two of bytes, interpolated in log-log. A
// device whose measurements show no reorders (no NCHWc: ARM, wasm, a lower optimization level)
// has no curve, and a network's reorders cost it nothing.
import { getKernelSpec, resolveConfig, type KernelConfig } from '@litepred/kernels';

export interface ReorderCost {
  /** log2 of the bytes of each point, ascending. */
  log2Bytes: number[];
  /** The median reorder time there (ms). */
  ms: number[];
}

/** Fewer reorders than this measured, and the device has no curve. */
const MIN_POINTS = 20;
/** A bin needs this many reorders for its median to count. */
const MIN_PER_BIN = 3;

/** The bytes of the input and output tensors of a conv or depthwise conv config; undefined for other kernels. */
export function convTensorBytes(config: KernelConfig): { input: number; output: number } | undefined {
  if (!/^(conv|dwconv)(-|$)/.test(config.type)) return undefined;
  const spec = getKernelSpec(config.type);
  const c = resolveConfig(config);
  const bytes = (shape: readonly number[]) => 4 * shape.reduce((a, b) => a * b, 1);
  return { input: bytes(spec.inputShapes(c)[0]!), output: bytes(spec.outputShapes(c)[0]!) };
}

/** The curve from (bytes, ms) reorder samples; undefined when too few show a reorder at all. */
export function fitReorderCost(samples: readonly { bytes: number; ms: number }[]): ReorderCost | undefined {
  const seen = samples.filter((s) => s.ms > 0 && s.bytes > 0);
  if (seen.length < MIN_POINTS) return undefined;
  const bins = new Map<number, number[]>();
  for (const s of seen) {
    const b = Math.round(Math.log2(s.bytes));
    const list = bins.get(b);
    if (list) list.push(s.ms);
    else bins.set(b, [s.ms]);
  }
  const points = [...bins]
    .filter(([, v]) => v.length >= MIN_PER_BIN)
    .sort((a, b) => a[0] - b[0])
    .map(([b, v]) => [b, v.sort((x, y) => x - y)[v.length >> 1]!] as const);
  if (points.length < 2) return undefined;
  return { log2Bytes: points.map((p) => p[0]), ms: points.map((p) => p[1]) };
}

/** The cost of reordering `bytes` (ms): log-log interpolation, and proportional to the bytes beyond the ends. */
export function reorderMs(cost: ReorderCost, bytes: number): number {
  if (bytes <= 0) return 0;
  const x = Math.log2(bytes);
  const { log2Bytes: xs, ms } = cost;
  if (x <= xs[0]!) return ms[0]! * 2 ** (x - xs[0]!);
  const last = xs.length - 1;
  if (x >= xs[last]!) return ms[last]! * 2 ** (x - xs[last]!);
  let i = 0;
  while (xs[i + 1]! < x) i++;
  const t = (x - xs[i]!) / (xs[i + 1]! - xs[i]!);
  return Math.exp(Math.log(ms[i]!) * (1 - t) + Math.log(ms[i + 1]!) * t);
}
