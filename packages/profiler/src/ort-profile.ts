// Reads onnxruntime's profile (Chrome trace JSON) into per-run node timings and splits each run
// into the kernel's own nodes and the boundary nodes a standalone model adds.
import { SINK_PREFIX } from '@litepred/kernels';

export interface NodeTiming {
  name: string;
  op: string;
  us: number;
}

export interface RunProfile {
  /** model_run duration as ORT saw it (µs). */
  runUs: number;
  nodes: NodeTiming[];
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string };
}

/** Groups the Node events of an ORT profile by the model_run they fall in, in run order. */
export function parseOrtProfile(events: readonly TraceEvent[]): RunProfile[] {
  const runs = events
    .filter((e) => e.cat === 'Session' && e.name === 'model_run' && typeof e.ts === 'number')
    .sort((a, b) => a.ts! - b.ts!);
  const nodes = events
    .filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time') && typeof e.ts === 'number')
    .sort((a, b) => a.ts! - b.ts!);
  const out: RunProfile[] = runs.map((r) => ({ runUs: r.dur ?? 0, nodes: [] }));
  let i = 0;
  for (const n of nodes) {
    while (i < runs.length && n.ts! > runs[i]!.ts! + (runs[i]!.dur ?? 0)) i++;
    if (i === runs.length) break;
    if (n.ts! < runs[i]!.ts!) continue;
    out[i]!.nodes.push({ name: n.name!.slice(0, -'_kernel_time'.length), op: n.args?.op_name ?? '', us: n.dur ?? 0 });
  }
  return out;
}

export type NodeRole = 'kernel' | 'reorder-in' | 'reorder-out' | 'sink';

/** ORT's NCHWc layout transformer inserts ReorderInput/ReorderOutput where a model enters/leaves the blocked layout. */
export function nodeRole(node: NodeTiming): NodeRole {
  if (node.name.startsWith(SINK_PREFIX)) return 'sink';
  if (node.op === 'ReorderInput') return 'reorder-in';
  if (node.op === 'ReorderOutput') return 'reorder-out';
  return 'kernel';
}

/** Per-run sums by role, in milliseconds. */
export function splitRun(run: RunProfile): Record<NodeRole | 'all', number> {
  const sums: Record<NodeRole | 'all', number> = { kernel: 0, 'reorder-in': 0, 'reorder-out': 0, sink: 0, all: 0 };
  for (const n of run.nodes) {
    sums[nodeRole(n)] += n.us / 1000;
    sums.all += n.us / 1000;
  }
  return sums;
}
