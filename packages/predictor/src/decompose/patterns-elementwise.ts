// Element-wise kernels (activations on their own, binary ops with broadcasting, batch norm) and
// the data movement that has a kernel type (channel concat, split, shuffle).
import type { BinaryOp } from '@litepred/kernels';
import type { OnnxNode } from './graph.js';
import type { GraphIndex } from './match.js';
import { channelAxis, elementwiseFields, imageFields, isImage, numel, tokenFields, type Match } from './fields.js';

/** An activation computed on its own: a single node, or the first node of one written out (x * Sigmoid(x), GELU, ...). */
export function unary(ix: GraphIndex, n: OnnxNode): Match {
  const x = n.inputs[0]!;
  const written = ix.activation(x);
  const single = ix.singleNodeActivation(n);
  const [act, nodes] = written && written.nodes[0] === n && written.nodes.length > 1 ? [written.act, written.nodes] : [single, [n]];
  if (!act) return n.op === 'Clip' ? { reason: 'Clip with bounds other than 0..6' } : undefined;
  const s = ix.shape(x);
  // GELU's element-wise kernel is on tokens; over the same elements an image costs the same.
  return { config: act === 'gelu' ? { type: 'gelu', ...tokenFields(s) } : { type: act, ...elementwiseFields(s) }, nodes };
}

const BINARY: Record<string, BinaryOp> = { Add: 'add', Mul: 'mul', Sub: 'sub', Div: 'div', Max: 'max', Min: 'min' };

/** A shape without its leading 1s: [1, 4, 196, 196] and [4, 196, 196] broadcast as the same shape. */
const squeezed = (s: readonly number[]) =>
  s
    .slice(
      Math.max(
        0,
        s.findIndex((d) => d !== 1),
      ),
    )
    .join();

/**
 * The fields of a binary op whose second operand broadcasts over `out`: BCAST 0 the same shape,
 * 2 one value, 1 anything smaller (per channel of an image: the image's fields; otherwise the
 * operand's values as the channels, each applied to numel(out)/numel(other) elements).
 */
function broadcastFields(other: readonly number[], out: readonly number[]): Record<string, number> | undefined {
  if (squeezed(other) === squeezed(out)) return elementwiseFields(out);
  if (numel(other) === 1) return { ...elementwiseFields(out), BCAST: 2 };
  const offset = out.length - other.length;
  if (offset < 0 || !other.every((d, i) => d === 1 || d === out[i + offset])) return undefined;
  const axis = channelAxis(out);
  if (isImage(out) && other.every((d, i) => d === 1 || i + offset === axis)) return { ...imageFields(out), BCAST: 1 };
  return { HW: numel(out) / numel(other), W: 1, CIN: numel(other), BCAST: 1 };
}

/** Add, Mul, Sub, Div, Max, Min: an operand of the output's shape and another of it, smaller, or one value. */
export function binary(ix: GraphIndex, n: OnnxNode): Match {
  const op = BINARY[n.op];
  if (!op) return undefined;
  if (n.inputs.length !== 2) return { reason: `${n.op} of ${n.inputs.length} inputs` };
  const out = ix.shape(n.outputs[0]!);
  const [sa, sb] = n.inputs.map((t) => ix.shape(t)) as [number[], number[]];
  const other = squeezed(sa) === squeezed(out) ? sb : squeezed(sb) === squeezed(out) ? sa : undefined;
  const fields = other && broadcastFields(other, out);
  if (!fields) return { reason: `${n.op} broadcasting [${sa.join(', ')}] and [${sb.join(', ')}]` };
  const same = !fields.BCAST;
  if (op === 'add' && same && out.length === 3 && out[0] === 1) return { config: { type: 'token-add', ...tokenFields(out) }, nodes: [n] };
  const relu = op === 'add' && same && isImage(out) && ix.fuses('add', 'relu') ? ix.only(n.outputs[0]!, 'Relu') : undefined;
  return { config: { type: relu ? 'add-relu' : op, ...fields }, nodes: relu ? [n, relu] : [n] };
}

export function batchNorm(ix: GraphIndex, n: OnnxNode): Match {
  const x = ix.shape(n.inputs[0]!);
  // [L, C]: no spatial plane, a kernel of its own (bn-tokens).
  if (x.length === 2) return { config: { type: 'bn-tokens', L: x[0]!, CIN: x[1]! }, nodes: [n] };
  const act = ix.activation(n.outputs[0]!);
  const relu = act?.act === 'relu' && ix.fuses('bn', 'relu') ? act : undefined;
  return {
    config: { type: relu ? 'bn-relu' : 'bn', ...elementwiseFields(ix.shape(n.inputs[0]!)) },
    nodes: relu ? [n, ...relu.nodes] : [n],
  };
}

/** Channel concat of 2 to 4 images; any other concat is glue. */
export function concat(ix: GraphIndex, n: OnnxNode): Match {
  const shapes = n.inputs.map((t) => ix.shape(t));
  const axis = n.attrs.axis as number;
  if (
    n.inputs.length < 2 ||
    n.inputs.length > 4 ||
    n.inputs.some((t) => ix.isConstant(t)) ||
    !shapes.every(isImage) ||
    (axis !== 1 && axis !== -3)
  )
    return undefined;
  const { HW, W } = imageFields(shapes[0]!);
  return {
    config: { type: 'concat', HW, ...(W ? { W } : {}), ...Object.fromEntries(shapes.map((s, i) => [`CIN${i + 1}`, s[1]!])) },
    nodes: [n],
  };
}

/** A channel split of an image in two halves; any other split is glue. */
export function split(ix: GraphIndex, n: OnnxNode): Match {
  const x = ix.shape(n.inputs[0]!);
  const halves = n.outputs.map((t) => ix.shape(t)[1]);
  const axis = (n.attrs.axis as number | undefined) ?? 0;
  if (!isImage(x) || (axis !== 1 && axis !== -3) || halves.length !== 2 || halves[0] !== halves[1]) return undefined;
  return { config: { type: 'split', ...imageFields(x) }, nodes: [n] };
}

/** Reshape [1,C,H,W] -> [1,g,C/g,H,W], Transpose (0,2,1,3,4), Reshape back. */
export function channelShuffle(ix: GraphIndex, n: OnnxNode): Match {
  const x = ix.shape(n.inputs[0]!);
  const grouped = ix.shape(n.outputs[0]!);
  const t = ix.only(n.outputs[0]!, 'Transpose');
  const back = t && ix.only(t.outputs[0]!, 'Reshape');
  if (
    !isImage(x) ||
    grouped.length !== 5 ||
    !back ||
    (t!.attrs.perm as number[]).join() !== '0,2,1,3,4' ||
    ix.shape(back.outputs[0]!).join() !== x.join()
  )
    return undefined;
  return {
    config: { type: 'channelshuffle', ...imageFields(x), ...(grouped[1] !== 2 ? { GROUPS: grouped[1]! } : {}) },
    nodes: [n, t!, back],
  };
}

/**
 * A permute between channels-first and channels-last images (ConvNeXt- and EdgeNeXt-style blocks
 * around their layer norms): a copy of the whole tensor, the `transpose` kernel. Any other
 * Transpose (tokens, heads) is glue.
 */
export function transpose(ix: GraphIndex, n: OnnxNode): Match {
  const x = ix.shape(n.inputs[0]!);
  const perm = ((n.attrs.perm as number[] | undefined) ?? []).join();
  if (x.length !== 4 || x[0] !== 1) return undefined;
  if (perm === '0,2,3,1') return { config: { type: 'transpose', ...imageFields(x) }, nodes: [n] };
  if (perm === '0,3,1,2') return { config: { type: 'transpose', ...imageFields([1, x[3]!, x[1]!, x[2]!]) }, nodes: [n] };
  return undefined;
}
