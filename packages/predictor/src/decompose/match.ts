// Pattern matching over an ONNX graph: who produces and consumes each tensor, constants, and the
// activation patterns exporters write (Relu, Clip 0..6, HardSwish, x*HardSigmoid(x),
// x*Clip(x+3,0,6)/6, x*Sigmoid(x), GELU as x*0.5*(1+Erf(x/sqrt 2)), Mish as x*Tanh(Softplus(x)),
// and the single-node ones).
import type { Activation } from '@litepred/kernels';
import type { Graph, OnnxNode } from './graph.js';

export type Act = Activation;

/** Single-node activations by ONNX op (Clip only with bounds 0..6, checked apart). */
const SINGLE_NODE: Record<string, Act> = {
  Relu: 'relu',
  HardSwish: 'hswish',
  HardSigmoid: 'hsigmoid',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  LeakyRelu: 'leakyrelu',
  PRelu: 'prelu',
  Mish: 'mish',
  Gelu: 'gelu',
};

export interface ActivationMatch {
  act: Act;
  nodes: OnnxNode[];
  out: string;
}

export class GraphIndex {
  private readonly consumers = new Map<string, OnnxNode[]>();
  private readonly producers = new Map<string, OnnxNode>();
  readonly claimed = new Set<OnnxNode>();

  /**
   * `fuses(first, act)`: whether the device runs `act` fused into a `first` kernel;
   * `foldsBatchNorm`: whether it folds a BatchNormalization into the conv before it.
   */
  constructor(
    readonly graph: Graph,
    readonly fuses: (first: string, act: Act) => boolean = () => true,
    readonly foldsBatchNorm = true,
  ) {
    for (const n of graph.nodes) {
      for (const t of n.inputs) {
        const list = this.consumers.get(t);
        if (list) list.push(n);
        else this.consumers.set(t, [n]);
      }
      n.outputs.forEach((t) => this.producers.set(t, n));
    }
  }

  consumersOf(t: string): OnnxNode[] {
    return this.consumers.get(t) ?? [];
  }
  producerOf(t: string): OnnxNode | undefined {
    return this.producers.get(t);
  }
  shape(t: string): number[] {
    return this.graph.shapes.get(t) ?? [];
  }
  isConstant(t: string): boolean {
    return this.graph.constantTensors.has(t);
  }

  /** A constant's values where small: an initializer, a Constant node, or what folds from them. */
  constant(t: string): number[] | undefined {
    return this.graph.values.get(t);
  }

  scalar(t: string): number | undefined {
    const v = this.constant(t);
    return v?.length === 1 ? v[0] : undefined;
  }

  /** The only consumer of `t`, if it has exactly one and it is free. */
  only(t: string, op?: string | string[]): OnnxNode | undefined {
    const cs = this.consumersOf(t);
    if (cs.length !== 1 || this.claimed.has(cs[0]!) || t === this.graph.output) return undefined;
    const ops = op === undefined ? undefined : ([] as string[]).concat(op);
    return !ops || ops.includes(cs[0]!.op) ? cs[0] : undefined;
  }

  /** The other input of a binary node. */
  other(node: OnnxNode, t: string): string {
    return node.inputs[0] === t ? node.inputs[1]! : node.inputs[0]!;
  }

  /**
   * The activation a single node computes on its first input. A Clip of any bounds is relu6's
   * kernel: ONNX Runtime runs one Clip kernel whatever the bounds (and fuses any into a conv).
   */
  singleNodeActivation(n: OnnxNode): Act | undefined {
    return n.op === 'Clip' ? 'relu6' : SINGLE_NODE[n.op];
  }

  /**
   * An activation applied to `t` by nodes that consume `t` (and their intermediates) only: its
   * kind, nodes and output tensor.
   */
  activation(t: string): ActivationMatch | undefined {
    const cs = this.consumersOf(t).filter((c) => !this.claimed.has(c));
    if (t === this.graph.output || cs.length !== this.consumersOf(t).length) return undefined;
    if (cs.length === 1) {
      const n = cs[0]!;
      const act = n.inputs[0] === t ? this.singleNodeActivation(n) : undefined;
      return act ? { act, nodes: [n], out: n.outputs[0]! } : undefined;
    }
    return cs.length === 2 ? this.twoBranchActivation(t, cs) : undefined;
  }

  /** x * f(x) activations: swish, hswish (also written out), GELU (erf form) and Mish. */
  private twoBranchActivation(t: string, cs: OnnxNode[]): ActivationMatch | undefined {
    const mul = cs.find((c) => c.op === 'Mul');
    const gate = cs.find((c) => c !== mul);
    if (!gate || !mul || (gate.inputs[0] !== t && gate.op !== 'Add')) return undefined;
    const into = (n: OnnxNode | undefined) => (n && this.only(n.outputs[0]!) === mul ? n : undefined);
    switch (gate.op) {
      case 'HardSigmoid':
      case 'Sigmoid':
        return into(gate) ? { act: gate.op === 'Sigmoid' ? 'swish' : 'hswish', nodes: [gate, mul], out: mul.outputs[0]! } : undefined;
      case 'Softplus': {
        const tanh = this.only(gate.outputs[0]!, 'Tanh');
        return into(tanh) ? { act: 'mish', nodes: [gate, tanh!, mul], out: mul.outputs[0]! } : undefined;
      }
      case 'Div':
      case 'Mul': {
        // GELU: x * (1 + Erf(x / sqrt 2)), then * 0.5.
        const k = this.scalar(gate.inputs[1]!);
        if (k === undefined || Math.abs((gate.op === 'Div' ? k : 1 / k) - Math.SQRT2) > 1e-3) return undefined;
        const erf = this.only(gate.outputs[0]!, 'Erf');
        const plus = erf && this.only(erf.outputs[0]!, 'Add');
        if (!into(plus) || this.scalar(this.other(plus!, erf!.outputs[0]!)) !== 1) return undefined;
        const half = this.only(mul.outputs[0]!, 'Mul');
        const nodes = [gate, erf!, plus!, mul];
        if (half && this.scalar(this.other(half, mul.outputs[0]!)) === 0.5) nodes.push(half);
        return { act: 'gelu', nodes, out: nodes.at(-1)!.outputs[0]! };
      }
      case 'Add': {
        // hswish written out: Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6) or Mul(., 1/6)
        if (this.scalar(this.other(gate, t)) !== 3) return undefined;
        const clip = this.only(gate.outputs[0]!, 'Clip');
        if (!clip || this.clipRange(clip) !== '0,6' || !into(clip)) return undefined;
        const scale = this.only(mul.outputs[0]!, ['Div', 'Mul']);
        const k = scale && this.scalar(this.other(scale, mul.outputs[0]!));
        if (!scale || !(scale.op === 'Div' ? k === 6 : Math.abs((k ?? 0) - 1 / 6) < 1e-6)) return undefined;
        return { act: 'hswish', nodes: [gate, clip, mul, scale], out: scale.outputs[0]! };
      }
    }
    return undefined;
  }

  /** A hard sigmoid gate written out: Add(x, 3) -> Clip(0, 6) or Relu6 -> Div(., 6) (MobileNetV3 exports). */
  hardSigmoidWrittenOut(add: OnnxNode): OnnxNode[] | undefined {
    if (add.op !== 'Add' || this.scalar(add.inputs[1]!) !== 3) return undefined;
    const clip = this.only(add.outputs[0]!, 'Clip');
    const div = clip && this.clipRange(clip) === '0,6' ? this.only(clip.outputs[0]!, 'Div') : undefined;
    return div && this.scalar(div.inputs[1]!) === 6 ? [add, clip!, div] : undefined;
  }

  private clipRange(n: OnnxNode): string {
    const lo = n.inputs[1] ? this.scalar(n.inputs[1]) : (n.attrs.min as number | undefined);
    const hi = n.inputs[2] ? this.scalar(n.inputs[2]) : (n.attrs.max as number | undefined);
    return `${lo},${hi}`;
  }
}
