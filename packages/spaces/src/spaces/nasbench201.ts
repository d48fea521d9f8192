// NAS-Bench-201 (Dong & Yang, ICLR'20): a cell of 4 nodes whose 6 edges each take one of
// none, skip, 1x1 conv, 3x3 conv (ReLU-Conv-BN) or 3x3 avg-pool; 3 stages of 5 cells with 16,
// 32, 64 channels and residual reduction blocks between them, on 32x32 CIFAR images.
import type { LayerRef } from '@litepred/kernels';
import { NetworkStack } from '../stack.js';
import { pick } from '../rng.js';
import type { SearchSpace } from '../space.js';

const OPS = ['none', 'skip', 'conv1x1', 'conv3x3', 'avgpool3x3'] as const;
type Op = (typeof OPS)[number];
/** Edges (from node, to node) in the benchmark's order. */
const EDGES = [
  [0, 1],
  [0, 2],
  [1, 2],
  [0, 3],
  [1, 3],
  [2, 3],
] as const;

function edge(st: NetworkStack, op: Op, from: LayerRef): LayerRef {
  if (op === 'skip') return from;
  if (op === 'avgpool3x3') return st.pool('avgpool', 3, 1, from);
  st.nchw('relu', from);
  return st.conv('conv-bn', st.channels(from), op === 'conv1x1' ? 1 : 3);
}

/**
 * Node j sums its incoming edges. Edges from a node that node 0 does not reach, or into a node
 * that does not lead to node 3, are left out: they would compute nothing the output uses.
 */
function cell(st: NetworkStack, ops: readonly Op[]): void {
  const live = liveEdges(ops);
  const nodes: (LayerRef | null)[] = [st.last];
  for (const j of [1, 2, 3]) {
    const terms: LayerRef[] = [];
    EDGES.forEach(([a, b], e) => {
      if (b === j && live[e] && nodes[a] != null) terms.push(edge(st, ops[e]!, nodes[a]!));
    });
    let sum: LayerRef | null = terms[0] ?? null;
    for (const t of terms.slice(1)) sum = st.add('add', sum!, t);
    nodes.push(sum);
  }
  st.moveTo(nodes[3]!); // node 3 may be a plain skip of an earlier tensor
}

function liveEdges(ops: readonly Op[]): boolean[] {
  const reached = [true, false, false, false];
  EDGES.forEach(([a, b], e) => {
    if (ops[e] !== 'none' && reached[a]) reached[b] = true;
  });
  const useful = [false, false, false, true];
  for (let e = EDGES.length - 1; e >= 0; e--) if (ops[e] !== 'none' && useful[EDGES[e]![1]]) useful[EDGES[e]![0]] = true;
  return EDGES.map(([a, b], e) => ops[e] !== 'none' && reached[a]! && useful[b]!);
}

export const nasBench201: SearchSpace = {
  name: 'nasbench201',
  title: 'NAS-Bench-201',
  source: 'Dong & Yang: NAS-Bench-201, ICLR 2020; CIFAR-10 macro skeleton (C=16, N=5), 32x32',
  resolutions: [32],
  sample(r) {
    let ops: Op[];
    do ops = EDGES.map(() => pick(r, OPS));
    while (!liveEdges(ops).some((live, e) => live && EDGES[e]![1] === 3));
    const st = new NetworkStack([1, 3, 32, 32]);
    st.conv('conv-bn', 16, 3);
    for (const [stage, width] of [16, 32, 64].entries()) {
      if (stage > 0) {
        const input = st.last;
        st.nchw('relu');
        st.conv('conv-bn', width, 3, 2);
        st.nchw('relu');
        const main = st.conv('conv-bn', width, 3);
        st.pool('avgpool', 2, 2, input);
        const shortcut = st.conv('conv-bn', width, 1);
        st.add('add', main, shortcut);
      }
      for (let c = 0; c < 5; c++) cell(st, ops);
    }
    st.nchw('bn-relu');
    st.classifier(10);
    return {
      choices: { resolution: 32, cell: EDGES.map(([a, b], e) => `${ops[e]}~${a}->${b}`) },
      inputShape: st.inputShape,
      layers: st.layers,
    };
  },
};
