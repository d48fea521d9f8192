// Convolutions (with batch norm and the activation the runtime fuses into them), squeeze-and-
// excitation blocks, and pools, on [1, C, H, W] activations of any height and width.
import { CONV_ACTIVATIONS, convTypeName, seMidChannels, windowPad, type KernelConfig } from '@litepred/kernels';
import type { OnnxNode } from './graph.js';
import type { GraphIndex } from './match.js';
import { imageFields, isImage, type Match } from './fields.js';

const ints = (n: OnnxNode, name: string, fallback: number[]) => (n.attrs[name] as number[] | undefined) ?? fallback;

/**
 * The square window, stride and dilation of a Conv or pool, and whether its output is what the
 * kernel library's padding gives (`windowPad`). Explicit pads that give the same output (a TF
 * exporter's asymmetric 'same') are taken as that padding: they cost the same.
 */
function window(ix: GraphIndex, n: OnnxNode, kernel: number[]): { k: number; s: number; d: number } | { reason: string } {
  const x = ix.shape(n.inputs[0]!);
  const out = ix.shape(n.outputs[0]!);
  const strides = ints(n, 'strides', [1, 1]);
  const dil = ints(n, 'dilations', [1, 1]);
  const what = `${n.op} ${kernel.join('x')} stride ${strides.join('x')}`;
  if (!isImage(x)) return { reason: `${n.op} on a ${x.length}-d input of batch ${x[0]} (kernels take [1, C, H, W])` };
  if (kernel.length !== 2 || kernel[0] !== kernel[1]) return { reason: `${what}: the window is not square` };
  if (strides[0] !== strides[1] || dil[0] !== dil[1])
    return { reason: `${what} dilation ${dil.join('x')}: strides or dilations differ by axis` };
  const [k, s, d] = [kernel[0]!, strides[0]!, dil[0]!];
  const pad = windowPad(k, s, d);
  const expected = [x[2]!, x[3]!].map((v) => Math.floor((v + 2 * pad - d * (k - 1) - 1) / s) + 1);
  if (out[2] !== expected[0] || out[3] !== expected[1]) {
    return {
      reason:
        `${what} with pads [${ints(n, 'pads', [0, 0, 0, 0]).join(',')}] gives ${out[2]}x${out[3]}; the kernels ` +
        `pad ${pad} (${expected.join('x')})`,
    };
  }
  return { k, s, d };
}

export function conv(ix: GraphIndex, n: OnnxNode): Match {
  const [x, w] = [ix.shape(n.inputs[0]!), ix.shape(n.inputs[1]!)];
  const win = window(ix, n, ints(n, 'kernel_shape', w.slice(2)));
  if ('reason' in win) return win;
  const groups = (n.attrs.group as number | undefined) ?? 1;
  const [cin, cout] = [x[1]!, w[0]!];
  const depthwise = groups > 1 && groups === cin && cout === cin;
  const base = depthwise ? 'dwconv' : 'conv';
  const nodes = [n];
  let out = n.outputs[0]!;
  const bn = ix.only(out, 'BatchNormalization');
  if (bn) {
    nodes.push(bn);
    out = bn.outputs[0]!;
  }
  // Where the runtime folds batch norm into the conv, a conv with and without one run as the same
  // kernel: the type with -bn names it (what the pool measures).
  const withBn = !!bn || ix.foldsBatchNorm;
  const a = ix.activation(out);
  const act = a && CONV_ACTIVATIONS.includes(a.act) && ix.fuses(`${base}-bn`, a.act) ? a : undefined;
  if (act) nodes.push(...act.nodes);
  const config: KernelConfig = {
    type: convTypeName(base, withBn, act?.act),
    ...imageFields(x),
    ...(depthwise ? {} : { COUT: cout }),
    KERNEL_SIZE: win.k,
    STRIDES: win.s,
    ...(win.d > 1 ? { DILATION: win.d } : {}),
    ...(!depthwise && groups > 1 ? { GROUPS: groups } : {}),
  };
  return { config, nodes };
}

/** The gate of an SE block: HardSigmoid, Sigmoid, or x+3 -> Clip(0, 6) -> /6. */
function seGate(ix: GraphIndex, t: string): OnnxNode[] | undefined {
  const g = ix.only(t, ['HardSigmoid', 'Sigmoid', 'Add']);
  if (!g) return undefined;
  return g.op === 'Add' ? ix.hardSigmoidWrittenOut(g) : [g];
}

/**
 * Squeeze-and-excitation: GlobalAveragePool (or ReduceMean over H, W) -> 1x1 conv -> activation ->
 * 1x1 conv -> gate -> Mul(x, gate). Its cost is the pool and the scale over x; which activation and
 * gate an exporter wrote changes little, so every variant is one `se` kernel.
 */
export function squeezeExcite(ix: GraphIndex, pool: OnnxNode): Match {
  const x = pool.inputs[0]!;
  const c1 = ix.only(pool.outputs[0]!, 'Conv');
  const act = c1 && ix.activation(c1.outputs[0]!);
  const c2 = act && ix.only(act.out, 'Conv');
  const gate = c2 && seGate(ix, c2.outputs[0]!);
  const mul = gate && ix.only(gate.at(-1)!.outputs[0]!, 'Mul');
  if (!mul || ix.other(mul, gate!.at(-1)!.outputs[0]!) !== x || !isImage(ix.shape(x))) return undefined;
  const [fields, mid] = [imageFields(ix.shape(x)), ix.shape(c1!.outputs[0]!)[1]!];
  const config = { type: 'se', ...fields, ...(mid !== seMidChannels(fields.CIN) ? { CMID: mid } : {}) };
  return { config, nodes: [pool, c1!, ...act!.nodes, c2!, ...gate!, mul] };
}

/** GlobalAveragePool, or ReduceMean over H and W keeping dims: an SE block's squeeze, else global-avgpool. */
export function globalPool(ix: GraphIndex, n: OnnxNode): Match {
  if (n.op === 'ReduceMean') {
    const x = ix.shape(n.inputs[0]!);
    const axes = (ix.constant(n.inputs[1] ?? '') ?? (n.attrs.axes as number[] | undefined) ?? [])
      .map((a) => (a < 0 ? a + x.length : a))
      .sort();
    if (x.length !== 4 || axes.join() !== '2,3' || n.attrs.keepdims === 0) return undefined;
  }
  const se = squeezeExcite(ix, n);
  if (se) return se;
  const x = ix.shape(n.inputs[0]!);
  return isImage(x)
    ? { config: { type: 'global-avgpool', ...imageFields(x) }, nodes: [n] }
    : { reason: `${n.op} on a ${x.length}-d input` };
}

export function pool(ix: GraphIndex, n: OnnxNode): Match {
  const win = window(ix, n, ints(n, 'kernel_shape', []));
  if ('reason' in win) return win;
  if (win.d !== 1) return { reason: `${n.op} dilated ${win.d}x` };
  return {
    config: {
      type: n.op === 'MaxPool' ? 'maxpool' : 'avgpool',
      ...imageFields(ix.shape(n.inputs[0]!)),
      KERNEL_SIZE: win.k,
      STRIDES: win.s,
    },
    nodes: [n],
  };
}
