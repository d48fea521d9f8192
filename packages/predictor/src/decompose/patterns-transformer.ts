// Linear layers (Gemm, MatMul + bias with constant weights) on rows, tokens or channels-last
// images, batched products of two activations, whole attention blocks, layer norm (also written
// out) and softmax.
import type { OnnxNode } from './graph.js';
import type { GraphIndex } from './match.js';
import { numel, tokenFields, type Match } from './fields.js';

/** x @ W (+ b) with a constant W: fc on one row [1, C] (+ Relu), matmul on every other shape (tokens, rows, channels-last images). */
function linearOn(ix: GraphIndex, x: number[], cout: number, nodes: OnnxNode[]): Match {
  const last = nodes.at(-1)!;
  if (x.length === 2 && x[0] === 1) {
    const relu = ix.only(last.outputs[0]!, 'Relu');
    return { config: { type: relu ? 'fc-relu' : 'fc', CIN: x[1]!, COUT: cout }, nodes: relu ? [...nodes, relu] : nodes };
  }
  return { config: { type: 'matmul', ...tokenFields(x), COUT: cout }, nodes };
}

export function gemm(ix: GraphIndex, n: OnnxNode): Match {
  const x = ix.shape(n.inputs[0]!);
  if (n.attrs.transA || !ix.isConstant(n.inputs[1]!)) return { reason: 'Gemm with a transposed or non-constant input' };
  return linearOn(ix, x, ix.shape(n.outputs[0]!).at(-1)!, [n]);
}

/** MatMul: a whole attention block, a linear layer (constant weight, + bias), or a batched product of two activations. */
export function matMul(ix: GraphIndex, n: OnnxNode): Match {
  const attention = mhsa(ix, n);
  if (attention) return attention;
  const x = ix.shape(n.inputs[0]!);
  if (ix.isConstant(n.inputs[1]!)) {
    const bias = ix.only(n.outputs[0]!, 'Add');
    const nodes =
      bias && ix.isConstant(ix.other(bias, n.outputs[0]!)) && ix.shape(bias.outputs[0]!).join() === ix.shape(n.outputs[0]!).join()
        ? [n, bias]
        : [n];
    return linearOn(ix, x, ix.shape(n.outputs[0]!).at(-1)!, nodes);
  }
  const w = ix.shape(n.inputs[1]!);
  const out = ix.shape(n.outputs[0]!);
  if (x.length < 2 || w.length < 2 || ix.isConstant(n.inputs[0]!)) return { reason: `MatMul of [${x.join(', ')}] and [${w.join(', ')}]` };
  return { config: { type: 'bmm', HEADS: numel(out.slice(0, -2)), L: x.at(-2)!, CIN: x.at(-1)!, COUT: w.at(-1)! }, nodes: [n] };
}

/**
 * Multi-head self-attention as our own emitter writes it: qkv projection, reshape to heads, q k^T,
 * scale, softmax, times v, merge heads, output projection. Every node between the input and the
 * output projection must belong to the block. Exporters that write it otherwise (SDPA's split
 * scale, LeViT's attention biases) decompose into its parts: matmul, bmm, softmax, mul.
 */
function mhsa(ix: GraphIndex, qkv: OnnxNode): Match {
  if (!ix.isConstant(qkv.inputs[1]!)) return undefined;
  const x = ix.shape(qkv.inputs[0]!);
  const w = ix.shape(qkv.inputs[1]!);
  if (x.length !== 3 || x[0] !== 1 || w[1] !== 3 * w[0]!) return undefined;
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

/** Layer norm over the last axis of any activation. */
export function layerNormNode(ix: GraphIndex, n: OnnxNode): Match {
  const s = ix.shape(n.inputs[0]!);
  const axis = (n.attrs.axis as number | undefined) ?? -1;
  if (axis !== -1 && axis !== s.length - 1) return { reason: `LayerNormalization over axis ${axis} of a ${s.length}-d tensor` };
  return { config: { type: 'layernorm', ...tokenFields(s) }, nodes: [n] };
}

export function softmax(ix: GraphIndex, n: OnnxNode): Match {
  const s = ix.shape(n.inputs[0]!);
  const axis = (n.attrs.axis as number | undefined) ?? -1;
  if (axis !== -1 && axis !== s.length - 1) return { reason: `Softmax over axis ${axis} of a ${s.length}-d tensor` };
  return { config: { type: 'softmax', ...tokenFields(s) }, nodes: [n] };
}

/** Layer norm written out: ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div (then Mul gamma, Add beta). */
export function layerNormWrittenOut(ix: GraphIndex, mean: OnnxNode): Match {
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
  return { config: { type: 'layernorm', ...tokenFields(ix.shape(x)) }, nodes };
}

/** ReduceMean/L2/Sum/Max/Min over any axes: `reduce` over the values each output reads. */
export function reduction(ix: GraphIndex, n: OnnxNode): Match {
  const [x, out] = [ix.shape(n.inputs[0]!), ix.shape(n.outputs[0]!)];
  if (numel(out) === 0 || numel(x) % numel(out) !== 0) return { reason: `${n.op} of [${x.join(', ')}] to [${out.join(', ')}]` };
  return { config: { type: 'reduce', L: numel(out), CIN: numel(x) / numel(out) }, nodes: [n] };
}
