// Reads onnxruntime's profile (Chrome trace JSON) into per-run node timings and splits each run
// into the kernel's own nodes and the boundary nodes a standalone model adds.
import { SCRUB_PREFIX, SINK_PREFIX } from '@litepred/kernels';

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

export interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string };
}

// ORT writes one event per line, fields in a fixed order: `{"cat" : "Node",...,"dur" :634,"ts" :1304,
// "ph" : "X","name" :"conv_kernel_time","args" : {... "op_name" : "Conv" ...}}`. Node events carry
// a dozen memory and shape fields each, so JSON.parse of a profile of a few hundred runs cost a
// third of a kernel measurement; reading only the five fields we use costs a small fraction of it.
const EVENT_LINE = /^\{"cat" : "(\w+)".*?"dur" :(\d+),"ts" :(\d+),"ph" : "X","name" :"([^"\\]*)"/;
const OP_NAME = /"op_name" : "([^"\\]*)"/;

/**
 * The Session and Node events of an ORT profile (Chrome trace JSON), with the fields
 * parseOrtProfile reads.
 */
export function readOrtTraceEvents(text: string): TraceEvent[] {
  // A runtime that writes its profile differently is still read right, only slower.
  return scanOrtTraceLines(text) ?? (JSON.parse(text) as TraceEvent[]);
}

/** The line-by-line read of readOrtTraceEvents; undefined as soon as a line is not in ORT's layout. */
export function scanOrtTraceLines(text: string): TraceEvent[] | undefined {
  const events: TraceEvent[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '[' || trimmed === ']' || trimmed === '') continue;
    const m = EVENT_LINE.exec(trimmed);
    if (!m) return undefined;
    const cat = m[1]!;
    if (cat !== 'Node' && cat !== 'Session') continue;
    const op = cat === 'Node' ? OP_NAME.exec(trimmed)?.[1] : undefined;
    events.push({ cat, dur: Number(m[2]), ts: Number(m[3]), name: m[4]!, ...(op !== undefined ? { args: { op_name: op } } : {}) });
  }
  return events;
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

export type NodeRole = 'kernel' | 'reorder-in' | 'reorder-out' | 'sink' | 'scrub';

/** ORT's NCHWc layout transformer inserts ReorderInput/ReorderOutput where a model enters/leaves the blocked layout. */
export function nodeRole(node: NodeTiming): NodeRole {
  if (node.name.startsWith(SINK_PREFIX)) return 'sink';
  if (node.name.startsWith(SCRUB_PREFIX)) return 'scrub';
  if (node.op === 'ReorderInput') return 'reorder-in';
  if (node.op === 'ReorderOutput') return 'reorder-out';
  return 'kernel';
}

/**
 * Per-run sums by role, in milliseconds. `nodeOverheadUs` is what the profiler itself adds to each
 * node's duration (calibrated per device): it is taken off every node, never below zero.
 */
export function splitRun(run: RunProfile, nodeOverheadUs = 0): Record<NodeRole | 'all', number> {
  const sums: Record<NodeRole | 'all', number> = { kernel: 0, 'reorder-in': 0, 'reorder-out': 0, sink: 0, scrub: 0, all: 0 };
  for (const n of run.nodes) {
    const ms = Math.max(0, n.us - nodeOverheadUs) / 1000;
    const role = nodeRole(n);
    sums[role] += ms;
    if (role !== 'scrub') sums.all += ms;
  }
  return sums;
}

/**
 * Whether the kernel leaves ORT's blocked layout inside itself: one of its own nodes runs after a
 * ReorderOutput (a squeeze-and-excitation's Mul does). Then its reorders happen inside a network
 * too, and belong to the kernel rather than to the standalone model's boundary.
 */
export function reordersInsideKernel(run: RunProfile): boolean {
  let reordered = false;
  for (const n of run.nodes) {
    const role = nodeRole(n);
    if (role === 'reorder-out') reordered = true;
    else if (role === 'kernel' && reordered) return true;
  }
  return false;
}
