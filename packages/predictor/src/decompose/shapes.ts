// Shape inference for the operators vision models and exporters use: every node's output shapes
// from its inputs' shapes, attributes and (where it reads them) constant values. An operator not
// modelled here takes the shape the model declares, else its first input's, and is listed.
import type { Graph, OnnxNode } from './graph-types.js';

type Shape = number[];

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}

function window(x: Shape, node: OnnxNode, channels: number): Shape {
  const k = (node.attrs.kernel_shape as number[] | undefined) ?? [];
  const s = (node.attrs.strides as number[] | undefined) ?? k.map(() => 1);
  const p = (node.attrs.pads as number[] | undefined) ?? [...k, ...k].map(() => 0);
  const d = (node.attrs.dilations as number[] | undefined) ?? k.map(() => 1);
  if (node.attrs.auto_pad && node.attrs.auto_pad !== 'NOTSET') {
    return [x[0]!, channels, ...k.map((_, i) => Math.ceil(x[2 + i]! / s[i]!))];
  }
  return [x[0]!, channels, ...k.map((kk, i) => Math.floor((x[2 + i]! + p[i]! + p[i + k.length]! - d[i]! * (kk - 1) - 1) / s[i]!) + 1)];
}

/** Sets the shapes of `node`'s outputs from its inputs' (and its attributes, and known constant values). */
export function inferShapes(g: Graph, node: OnnxNode, valueInfo: Map<string, number[]>): void {
  const shape = (i: number) => g.shapes.get(node.inputs[i] ?? '') ?? [];
  const constant = (i: number) => g.values.get(node.inputs[i] ?? '');
  const x = shape(0);
  const set = (...outs: Shape[]) => outs.forEach((s, i) => node.outputs[i] && g.shapes.set(node.outputs[i]!, s));
  const a = node.attrs;
  switch (node.op) {
    case 'Conv': {
      const w = shape(1);
      if (!a.kernel_shape) a.kernel_shape = w.slice(2);
      return set(window(x, node, w[0]!));
    }
    case 'MaxPool':
    case 'AveragePool':
      return set(window(x, node, x[1]!));
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return set([...x.slice(0, 2), ...x.slice(2).map(() => 1)]);
    case 'Relu':
    case 'Clip':
    case 'HardSwish':
    case 'HardSigmoid':
    case 'Sigmoid':
    case 'Tanh':
    case 'LeakyRelu':
    case 'Sqrt':
    case 'Erf':
    case 'Gelu':
    case 'Softmax':
    case 'LayerNormalization':
    case 'BatchNormalization':
    case 'Identity':
    case 'Dropout':
    case 'Neg':
    case 'Exp':
    case 'Reciprocal':
    case 'Cast':
    case 'PRelu':
    case 'Mish':
    case 'Softplus':
    case 'Sin':
    case 'Cos':
    case 'CumSum':
    case 'Floor':
    case 'Ceil':
    case 'Abs':
    case 'Log':
    case 'Not':
    case 'Elu':
    case 'Selu':
    case 'Celu':
    case 'ThresholdedRelu':
    case 'Round':
    case 'Sign':
    case 'HardMax':
    case 'LogSoftmax':
    case 'InstanceNormalization':
    case 'GroupNormalization':
    case 'LpNormalization':
      return set(x);
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Pow':
    case 'Max':
    case 'Min':
    case 'Equal':
    case 'Greater':
    case 'Less':
    case 'And':
    case 'Or':
    case 'Mod':
      return set(node.inputs.slice(1).reduce((s, _, i) => broadcast(s, shape(i + 1)), x));
    case 'Where':
      return set(broadcast(broadcast(x, shape(1)), shape(2)));
    case 'Shape': {
      const start = norm((a.start as number | undefined) ?? 0, x.length);
      const end = a.end === undefined ? x.length : Math.min(x.length, norm(a.end as number, x.length));
      return set([Math.max(0, end - start)]);
    }
    case 'ConstantOfShape': {
      const dims = constant(0);
      if (!dims) break;
      return set(dims);
    }
    case 'Expand': {
      const to = constant(1);
      if (!to) break;
      return set(broadcast(x, to));
    }
    case 'Range': {
      const [start, limit, delta] = [constant(0), constant(1), constant(2)];
      if (!start || !limit || !delta || delta[0] === 0) break;
      return set([Math.max(0, Math.ceil((limit[0]! - start[0]!) / delta[0]!))]);
    }
    case 'Gather': {
      const axis = norm((a.axis as number | undefined) ?? 0, x.length);
      return set([...x.slice(0, axis), ...shape(1), ...x.slice(axis + 1)]);
    }
    case 'Pad': {
      const pads = constant(1) ?? (a.pads as number[] | undefined);
      if (!pads) break;
      const axes = (constant(3) ?? x.map((_, i) => i)).map((v) => norm(v, x.length));
      const out = [...x];
      axes.forEach((ax, j) => (out[ax] = x[ax]! + pads[j]! + pads[j + axes.length]!));
      return set(out);
    }
    case 'Resize':
    case 'Upsample': {
      const sizes = constant(3);
      const scales = constant(node.op === 'Upsample' ? 1 : 2);
      if (sizes?.length === x.length) return set(sizes);
      if (scales?.length === x.length) return set(x.map((v, i) => Math.floor(v * scales[i]!)));
      break;
    }
    case 'Gemm': {
      const w = shape(1);
      return set([a.transA ? x[1]! : x[0]!, a.transB ? w[0]! : w[1]!]);
    }
    case 'MatMul': {
      const w = shape(1);
      const batch = broadcast(x.slice(0, -2), w.slice(0, -2));
      return set([...batch, x[x.length - 2]!, w[w.length - 1]!]);
    }
    case 'Flatten': {
      const axis = norm((a.axis as number | undefined) ?? 1, x.length);
      const prod = (s: Shape) => s.reduce((p, v) => p * v, 1);
      return set([prod(x.slice(0, axis)), prod(x.slice(axis))]);
    }
    case 'Reshape': {
      const target = constant(1);
      if (!target) break;
      const out = target.map((v, i) => (v === 0 ? x[i]! : v));
      const known = out.filter((v) => v > 0).reduce((p, v) => p * v, 1);
      return set(out.map((v) => (v === -1 ? x.reduce((p, q) => p * q, 1) / known : v)));
    }
    case 'Transpose': {
      const perm = (a.perm as number[] | undefined) ?? x.map((_, i) => x.length - 1 - i);
      return set(perm.map((p) => x[p]!));
    }
    case 'Concat': {
      const axis = norm(a.axis as number, x.length);
      const out = [...x];
      out[axis] = node.inputs.reduce((s, _, i) => s + shape(i)[axis]!, 0);
      return set(out);
    }
    case 'Split': {
      const axis = norm((a.axis as number | undefined) ?? 0, x.length);
      const n = node.outputs.length;
      // Checked before the sizes are spread into set(): 200,000 outputs overflowed the stack.
      if (n > x[axis]!) throw new Error(`splits an axis of ${x[axis]} into ${n} outputs`);
      const sizes =
        constant(1) ??
        (a.split as number[] | undefined) ??
        Array.from({ length: n }, (_, i) => Math.ceil(x[axis]! / n) - (i === n - 1 ? n * Math.ceil(x[axis]! / n) - x[axis]! : 0));
      return set(...sizes.map((s) => x.map((v, i) => (i === axis ? s : v))));
    }
    case 'Slice': {
      const [starts, ends, axes, steps] = [constant(1), constant(2), constant(3), constant(4)];
      if (!starts || !ends) break;
      const out = [...x];
      starts.forEach((s, j) => {
        const axis = norm(axes?.[j] ?? j, x.length);
        const dim = x[axis]!;
        const clamp = (v: number) => Math.max(0, Math.min(dim, v < 0 ? v + dim : v));
        out[axis] = Math.max(0, Math.ceil((clamp(ends[j]!) - clamp(s)) / (steps?.[j] ?? 1)));
      });
      return set(out);
    }
    case 'Squeeze': {
      const axes = (constant(1) ?? (a.axes as number[] | undefined) ?? x.flatMap((v, i) => (v === 1 ? [i] : []))).map((v) =>
        norm(v, x.length),
      );
      return set(x.filter((_, i) => !axes.includes(i)));
    }
    case 'Unsqueeze': {
      const axes = constant(1) ?? (a.axes as number[] | undefined) ?? [];
      const out = [...x];
      for (const ax of axes.map((v) => norm(v, x.length + axes.length)).sort((p, q) => p - q)) out.splice(ax, 0, 1);
      return set(out);
    }
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceSum':
    case 'ReduceL2':
    case 'ReduceMin':
    case 'ReduceProd': {
      const axes = (constant(1) ?? (a.axes as number[] | undefined) ?? x.map((_, i) => i)).map((v) => norm(v, x.length));
      const keep = (a.keepdims as number | undefined) ?? 1;
      return set(keep ? x.map((v, i) => (axes.includes(i) ? 1 : v)) : x.filter((_, i) => !axes.includes(i)));
    }
  }
  // An operator this module does not model: take the shape the model declares, else guess.
  g.guessedShapes.push(node.op);
  node.outputs.forEach((o) => g.shapes.set(o, valueInfo.get(o)?.every((d) => d > 0) ? valueInfo.get(o)! : x));
}
