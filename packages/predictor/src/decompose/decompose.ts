// An ONNX model split into the kernel library's kernels, following the fusion rules runtimes
// apply (conv+bn+activation, SE blocks, residual add+relu, layer norm and GELU written out,
// attention blocks). Reshapes and friends are glue; anything else is reported, never dropped.
import { compactConfig, kernelCost, kernelTypes, resolveConfig, type KernelConfig } from '@litepred/kernels';
import { loadGraph, type OnnxNode } from './graph.js';
import { GraphIndex, type Act } from './match.js';
import { ruleFor, type FusionRules } from '../fusion.js';

export interface ModelKernel {
  config: KernelConfig;
  /** The ONNX nodes it covers. */
  nodes: string[];
}

export interface Coverage {
  /** Nodes that only move data (Reshape, Transpose, Flatten, ...): no kernel, no latency term. */
  glue: Record<string, number>;
  /** Compute nodes no kernel type covers, by op type, with their FLOPs. */
  unsupported: { op: string; count: number; flops: number; reasons: string[] }[];
  /** Share of the model's FLOPs that its kernels cover. */
  flopsShare: number;
  /** Ops whose output shapes were not inferred here but taken from the model or guessed. */
  guessedShapes: string[];
}

export interface Decomposition {
  kernels: ModelKernel[];
  coverage: Coverage;
}

const GLUE = new Set(['Reshape', 'Transpose', 'Flatten', 'Squeeze', 'Unsqueeze', 'Slice', 'Identity', 'Dropout', 'Concat', 'Cast', 'Shape', 'Gather', 'Constant', 'Split']);

type Match = { config: KernelConfig; nodes: OnnxNode[] } | { reason: string } | undefined;

/**
 * `fusionRules` (from fusion detection on a device) keeps an activation apart from the kernel
 * before it where the device does not fuse the pair.
 */
export function decomposeModel(bytes: Uint8Array, options: { inputShape?: readonly number[]; fusionRules?: FusionRules } = {}): Decomposition {
  const ix = new GraphIndex(loadGraph(bytes, options.inputShape), (first, act) => options.fusionRules?.[ruleFor(first, act)] !== false);
  const kernels: ModelKernel[] = [];
  const glue: Record<string, number> = {};
  const unsupported = new Map<string, { op: string; count: number; flops: number; reasons: Set<string> }>();
  let coveredFlops = 0;
  for (const node of ix.graph.nodes) {
    if (ix.claimed.has(node)) continue;
    const m = matchAt(ix, node);
    if (m && 'config' in m) {
      const config = compactConfig(resolveConfig(m.config));
      m.nodes.forEach((n) => ix.claimed.add(n));
      kernels.push({ config, nodes: m.nodes.map((n) => n.name) });
      coveredFlops += kernelCost(config).flops;
    } else if (GLUE.has(node.op)) {
      glue[node.op] = (glue[node.op] ?? 0) + 1;
    } else {
      const u = unsupported.get(node.op) ?? { op: node.op, count: 0, flops: 0, reasons: new Set<string>() };
      u.count++;
      u.flops += roughFlops(ix, node);
      if (m && 'reason' in m) u.reasons.add(m.reason);
      unsupported.set(node.op, u);
    }
  }
  const missing = [...unsupported.values()].reduce((s, u) => s + u.flops, 0);
  return {
    kernels,
    coverage: {
      glue, flopsShare: coveredFlops + missing > 0 ? coveredFlops / (coveredFlops + missing) : 1,
      unsupported: [...unsupported.values()].map((u) => ({ op: u.op, count: u.count, flops: u.flops, reasons: [...u.reasons] })),
      guessedShapes: [...new Set(ix.graph.guessedShapes)],
    },
  };
}

/** FLOPs of a node no kernel covers: exact for Conv/MatMul/Gemm, one per output element otherwise. */
function roughFlops(ix: GraphIndex, n: OnnxNode): number {
  const elems = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const out = elems(ix.shape(n.outputs[0]!));
  if (n.op === 'Conv') return 2 * out * elems(ix.shape(n.inputs[1]!).slice(1));
  if (n.op === 'MatMul' || n.op === 'Gemm') return 2 * out * (ix.shape(n.inputs[0]!).at(-1) ?? 1);
  return out;
}

function matchAt(ix: GraphIndex, n: OnnxNode): Match {
  switch (n.op) {
    case 'Conv': return conv(ix, n);
    case 'GlobalAveragePool': return squeezeExcite(ix, n) ?? nchw(ix, n, 'global-avgpool');
    case 'MaxPool': case 'AveragePool': return pool(ix, n);
    case 'BatchNormalization': {
      const act = ix.activation(n.outputs[0]!);
      if (act?.act === 'relu' && ix.fuses('bn', 'relu')) return { ...nchwConfig(ix, n, 'bn-relu'), nodes: [n, ...act.nodes] };
      return nchw(ix, n, 'bn');
    }
    case 'Relu': case 'HardSwish': return nchw(ix, n, n.op === 'Relu' ? 'relu' : 'hswish');
    case 'HardSigmoid': case 'Sigmoid': {
      // x * HardSigmoid(x) (hswish) or x * Sigmoid(x) (swish) on its own
      const act = ix.activation(n.inputs[0]!);
      return act && act.nodes[0] === n ? nchw(ix, n, act.act, act.nodes) : undefined;
    }
    case 'Add': return add(ix, n);
    case 'Gemm': return fc(ix, n, n, [n]);
    case 'MatMul': return attention(ix, n) ?? linear(ix, n);
    case 'Concat': return concat(ix, n);
    case 'Split': return split(ix, n);
    case 'Reshape': return channelShuffle(ix, n);
    case 'Softmax': {
      const s = ix.shape(n.inputs[0]!);
      return { config: { type: 'softmax', L: s.slice(0, -1).reduce((a, b) => a * b, 1), CIN: s.at(-1)! }, nodes: [n] };
    }
    case 'Gelu': return tokens(ix, n, 'gelu', [n]);
    case 'LayerNormalization': return tokens(ix, n, 'layernorm', [n]);
    case 'ReduceMean': return layerNorm(ix, n);
    case 'Div': case 'Mul': return gelu(ix, n);
  }
  return undefined;
}

function nchwConfig(ix: GraphIndex, n: OnnxNode, type: string): { config: KernelConfig } {
  const s = ix.shape(n.inputs[0]!);
  return { config: { type, HW: s[2]!, CIN: s[1]! } };
}

function square(s: number[]): boolean {
  return s.length === 4 && s[0] === 1 && s[2] === s[3];
}

function nchw(ix: GraphIndex, n: OnnxNode, type: string, nodes = [n]): Match {
  return square(ix.shape(n.inputs[0]!)) ? { ...nchwConfig(ix, n, type), nodes } : { reason: `${n.op} on a non-square or batched input` };
}

function tokens(ix: GraphIndex, n: OnnxNode, type: string, nodes: OnnxNode[]): Match {
  const s = ix.shape(n.inputs[0]!);
  return s.length === 3 && s[0] === 1 ? { config: { type, L: s[1]!, CIN: s[2]! }, nodes } : { reason: `${type} on a ${s.length}-d tensor` };
}

/** The kernel library's types: a conv + activation pair fuses only into a type that exists. */
const KERNEL_TYPES = new Set(kernelTypes());

function conv(ix: GraphIndex, n: OnnxNode): Match {
  const [x, w] = [ix.shape(n.inputs[0]!), ix.shape(n.inputs[1]!)];
  const k = (n.attrs.kernel_shape as number[] | undefined) ?? w.slice(2);
  const strides = (n.attrs.strides as number[] | undefined) ?? [1, 1];
  const pads = (n.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
  const dil = (n.attrs.dilations as number[] | undefined) ?? [1, 1];
  const groups = (n.attrs.group as number | undefined) ?? 1;
  if (!square(x) || k[0] !== k[1] || strides[0] !== strides[1] || dil.some((d) => d !== 1)) return { reason: 'conv that is not square, batch 1 and undilated' };
  const same = (k[0]! - 1) >> 1;
  if (k[0]! % 2 === 0 || pads.some((p) => p !== same)) return { reason: `conv ${k[0]}x${k[0]} with pads [${pads.join(',')}] (kernels use 'same' padding)` };
  const [cin, cout] = [x[1]!, w[0]!];
  const depthwise = groups > 1 && groups === cin && cout === cin;
  const nodes = [n];
  let out = n.outputs[0]!;
  const bn = ix.only(out, 'BatchNormalization');
  if (bn) nodes.push(bn), (out = bn.outputs[0]!);
  let act: Act | undefined;
  const a = ix.activation(out);
  const base = depthwise ? 'dwconv' : 'conv';
  // Convolutions without batch norm run as conv-bn: runtimes fold batch norm into the conv.
  const typeFor = (withAct?: Act) => [base, ...(bn || !withAct ? ['bn'] : []), ...(withAct ? [withAct] : [])].join('-');
  if (a && KERNEL_TYPES.has(typeFor(a.act)) && (a.act === 'relu6' || ix.fuses(`${base}-bn`, a.act))) act = a.act, nodes.push(...a.nodes);
  const config: KernelConfig = depthwise
    ? { type: typeFor(act), HW: x[2]!, CIN: cin, KERNEL_SIZE: k[0]!, STRIDES: strides[0]! }
    : { type: typeFor(act), HW: x[2]!, CIN: cin, COUT: cout, KERNEL_SIZE: k[0]!, STRIDES: strides[0]!, ...(groups > 1 ? { GROUPS: groups } : {}) };
  return { config, nodes };
}

/** GlobalAveragePool -> 1x1 conv -> Relu -> 1x1 conv -> HardSigmoid/Sigmoid -> Mul(x, gate). */
function squeezeExcite(ix: GraphIndex, gap: OnnxNode): Match {
  const x = gap.inputs[0]!;
  const c1 = ix.only(gap.outputs[0]!, 'Conv');
  const relu = c1 && ix.only(c1.outputs[0]!, 'Relu');
  const c2 = relu && ix.only(relu.outputs[0]!, 'Conv');
  const gate = c2 && ix.only(c2.outputs[0]!, ['HardSigmoid', 'Sigmoid']);
  const mul = gate && ix.only(gate.outputs[0]!, 'Mul');
  if (!mul || ix.other(mul, gate!.outputs[0]!) !== x) return undefined;
  return { ...nchwConfig(ix, gap, 'se'), nodes: [gap, c1!, relu!, c2!, gate!, mul] };
}

function pool(ix: GraphIndex, n: OnnxNode): Match {
  const x = ix.shape(n.inputs[0]!);
  const k = n.attrs.kernel_shape as number[];
  const s = (n.attrs.strides as number[] | undefined) ?? [1, 1];
  const pads = (n.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
  const expected = k[0] === s[0] || k[0]! % 2 === 0 ? 0 : (k[0]! - 1) >> 1;
  if (!square(x) || k[0] !== k[1] || s[0] !== s[1] || pads.some((p) => p !== expected)) return { reason: `${n.op} ${k.join('x')} stride ${s.join('x')} pads [${pads.join(',')}]` };
  return { config: { type: n.op === 'MaxPool' ? 'maxpool' : 'avgpool', HW: x[2]!, CIN: x[1]!, KERNEL_SIZE: k[0]!, STRIDES: s[0]! }, nodes: [n] };
}

function add(ix: GraphIndex, n: OnnxNode): Match {
  const [a, b] = n.inputs.map((t) => ix.shape(t));
  if (ix.isConstant(n.inputs[0]!) || ix.isConstant(n.inputs[1]!) || a!.join() !== b!.join()) return { reason: 'Add of a tensor and a constant or of different shapes' };
  if (a!.length === 3) return tokens(ix, n, 'token-add', [n]);
  const relu = ix.fuses('add', 'relu') ? ix.only(n.outputs[0]!, 'Relu') : undefined;
  return nchw(ix, n, relu ? 'add-relu' : 'add', relu ? [n, relu] : [n]);
}

/** Gemm, or MatMul + Add, on [1, CIN] with constant weights; + Relu. */
function fc(ix: GraphIndex, n: OnnxNode, last: OnnxNode, nodes: OnnxNode[]): Match {
  const x = ix.shape(n.inputs[0]!);
  if (x.length !== 2 || x[0] !== 1) return { reason: `${n.op} on a ${x.join('x')} input` };
  const cout = ix.shape(last.outputs[0]!)[1]!;
  const relu = ix.only(last.outputs[0]!, 'Relu');
  return { config: { type: relu ? 'fc-relu' : 'fc', CIN: x[1]!, COUT: cout }, nodes: relu ? [...nodes, relu] : nodes };
}

/** x @ W (+ b) with a constant W: fc on [1, C], matmul on tokens [1, L, C]. */
function linear(ix: GraphIndex, n: OnnxNode): Match {
  if (!ix.isConstant(n.inputs[1]!)) return { reason: 'MatMul of two activations outside an attention block' };
  const bias = ix.only(n.outputs[0]!, 'Add');
  const nodes = bias && ix.isConstant(ix.other(bias, n.outputs[0]!)) ? [n, bias] : [n];
  const last = nodes[nodes.length - 1]!;
  const x = ix.shape(n.inputs[0]!);
  if (x.length === 2) return fc(ix, n, last, nodes);
  if (x.length !== 3 || x[0] !== 1) return { reason: `MatMul on a ${x.length}-d input` };
  return { config: { type: 'matmul', L: x[1]!, CIN: x[2]!, COUT: ix.shape(last.outputs[0]!)[2]! }, nodes };
}

/**
 * Multi-head self-attention as exporters write it: qkv projection, reshape to heads, q k^T,
 * scale, softmax, times v, merge heads, output projection. Every node between the input and the
 * output projection must belong to the block.
 */
function attention(ix: GraphIndex, qkv: OnnxNode): Match {
  if (!ix.isConstant(qkv.inputs[1]!)) return undefined;
  const x = ix.shape(qkv.inputs[0]!);
  const w = ix.shape(qkv.inputs[1]!);
  if (x.length !== 3 || w[1] !== 3 * w[0]!) return undefined;
  const nodes: OnnxNode[] = [qkv];
  const follow = (t: string, ops: string[]): OnnxNode | undefined => {
    const n = ix.only(t, ops);
    if (n) nodes.push(n);
    return n;
  };
  const bias = follow(qkv.outputs[0]!, ['Add']);
  const reshape = follow((bias ?? qkv).outputs[0]!, ['Reshape']);
  const split5 = reshape && ix.shape(reshape.outputs[0]!);
  if (!reshape || split5?.length !== 5 || split5[2] !== 3) return undefined;
  const heads = split5[3]!;
  const transpose = follow(reshape.outputs[0]!, ['Transpose']);
  const split = transpose && follow(transpose.outputs[0]!, ['Split']);
  if (!split || split.outputs.length !== 3) return undefined;
  const [q, k, v] = split.outputs.map((t) => follow(t, ['Squeeze']));
  if (!q || !k || !v) return undefined;
  const kT = follow(k.outputs[0]!, ['Transpose']);
  const scores = kT && follow(kT.outputs[0]!, ['MatMul']);
  if (!scores || scores.inputs[0] !== q.outputs[0]) return undefined;
  const scaled = follow(scores.outputs[0]!, ['Mul', 'Div']);
  const softmax = follow((scaled ?? scores).outputs[0]!, ['Softmax']);
  const context = softmax && follow(softmax.outputs[0]!, ['MatMul']);
  if (!context || context.inputs[1] !== v.outputs[0]) return undefined;
  const merge = follow(context.outputs[0]!, ['Transpose']);
  const flat = merge && follow(merge.outputs[0]!, ['Reshape']);
  const proj = flat && follow(flat.outputs[0]!, ['MatMul']);
  if (!proj || !ix.isConstant(proj.inputs[1]!)) return undefined;
  const projBias = ix.only(proj.outputs[0]!, 'Add');
  if (projBias && ix.isConstant(ix.other(projBias, proj.outputs[0]!))) nodes.push(projBias);
  return { config: { type: 'mhsa', L: x[1]!, CIN: x[2]!, HEADS: heads }, nodes };
}

function concat(ix: GraphIndex, n: OnnxNode): Match {
  const shapes = n.inputs.map((t) => ix.shape(t));
  const axis = n.attrs.axis as number;
  if (n.inputs.length < 2 || n.inputs.length > 4 || n.inputs.some((t) => ix.isConstant(t)) || !shapes.every(square) || (axis !== 1 && axis !== -3)) return undefined;
  return { config: { type: 'concat', HW: shapes[0]![2]!, ...Object.fromEntries(shapes.map((s, i) => [`CIN${i + 1}`, s[1]!])) }, nodes: [n] };
}

function split(ix: GraphIndex, n: OnnxNode): Match {
  const x = ix.shape(n.inputs[0]!);
  const halves = n.outputs.map((t) => ix.shape(t)[1]);
  const axis = (n.attrs.axis as number | undefined) ?? 0;
  if (!square(x) || (axis !== 1 && axis !== -3) || halves.length !== 2 || halves[0] !== halves[1]) return undefined;
  return { ...nchwConfig(ix, n, 'split'), nodes: [n] };
}

/** Reshape [1,C,H,W] -> [1,g,C/g,H,W], Transpose (0,2,1,3,4), Reshape back. */
function channelShuffle(ix: GraphIndex, n: OnnxNode): Match {
  const x = ix.shape(n.inputs[0]!);
  const grouped = ix.shape(n.outputs[0]!);
  const t = ix.only(n.outputs[0]!, 'Transpose');
  const back = t && ix.only(t.outputs[0]!, 'Reshape');
  if (!square(x) || grouped.length !== 5 || !back || (t!.attrs.perm as number[]).join() !== '0,2,1,3,4' || ix.shape(back.outputs[0]!).join() !== x.join()) return undefined;
  return { config: { type: 'channelshuffle', HW: x[2]!, CIN: x[1]!, ...(grouped[1] !== 2 ? { GROUPS: grouped[1]! } : {}) }, nodes: [n, t!, back] };
}

/** Layer norm written out: ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div (then Mul gamma, Add beta). */
function layerNorm(ix: GraphIndex, mean: OnnxNode): Match {
  const x = mean.inputs[0]!;
  const sub = ix.only(mean.outputs[0]!, 'Sub');
  if (!sub || sub.inputs[0] !== x) return undefined;
  const subUsers = ix.consumersOf(sub.outputs[0]!);
  const pow = subUsers.find((c) => c.op === 'Pow' || c.op === 'Mul');
  const div = subUsers.find((c) => c.op === 'Div');
  const mean2 = pow && ix.only(pow.outputs[0]!, 'ReduceMean');
  const eps = mean2 && ix.only(mean2.outputs[0]!, 'Add');
  const sqrt = eps && ix.only(eps.outputs[0]!, 'Sqrt');
  if (!div || !sqrt || ix.only(sqrt.outputs[0]!) !== div || subUsers.length !== 2) return undefined;
  const nodes = [mean, sub, pow!, mean2!, eps!, sqrt, div];
  const gamma = ix.only(div.outputs[0]!, 'Mul');
  if (gamma) nodes.push(gamma);
  const beta = gamma && ix.only(gamma.outputs[0]!, 'Add');
  if (beta && ix.isConstant(ix.other(beta, gamma!.outputs[0]!))) nodes.push(beta);
  return tokens(ix, mean, 'layernorm', nodes);
}

/** GELU written out: x * 0.5 * (1 + Erf(x / sqrt 2)), in the orders exporters use. */
function gelu(ix: GraphIndex, first: OnnxNode): Match {
  if (first.op !== 'Div') return undefined;
  const x = first.inputs[0]!;
  const erf = ix.only(first.outputs[0]!, 'Erf');
  const plus = erf && ix.only(erf.outputs[0]!, 'Add');
  const mul = plus && ix.only(plus.outputs[0]!, 'Mul');
  if (!mul) return undefined;
  const nodes = [first, erf!, plus!, mul];
  const half = ix.only(mul.outputs[0]!, 'Mul');
  if (half) nodes.push(half);
  const usesX = nodes.some((n) => n !== first && n.inputs.includes(x));
  return usesX ? tokens(ix, first, 'gelu', nodes) : undefined;
}
