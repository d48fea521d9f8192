// Pattern matching over an ONNX graph: who produces and consumes each tensor, constants, and the
// activation patterns exporters write (Relu, Clip 0..6, HardSwish, x*HardSigmoid(x),
// x*Clip(x+3,0,6)/6, x*Sigmoid(x)).
import type { Graph, OnnxNode } from './graph.js';

export type Act = 'relu' | 'relu6' | 'hswish' | 'swish';

export class GraphIndex {
  private readonly consumers = new Map<string, OnnxNode[]>();
  private readonly producers = new Map<string, OnnxNode>();
  readonly claimed = new Set<OnnxNode>();

  /** `fuses(first, act)`: whether the device runs `act` fused into a `first` kernel. */
  constructor(readonly graph: Graph, readonly fuses: (first: string, act: Act) => boolean = () => true) {
    for (const n of graph.nodes) {
      n.inputs.forEach((t) => this.consumers.set(t, [...(this.consumers.get(t) ?? []), n]));
      n.outputs.forEach((t) => this.producers.set(t, n));
    }
  }

  consumersOf(t: string): OnnxNode[] { return this.consumers.get(t) ?? []; }
  producerOf(t: string): OnnxNode | undefined { return this.producers.get(t); }
  shape(t: string): number[] { return this.graph.shapes.get(t) ?? []; }
  isConstant(t: string): boolean { return this.graph.constants.has(t) || this.producerOf(t)?.op === 'Constant'; }

  /** A constant's values: an initializer, or a Constant node's value. */
  constant(t: string): number[] | undefined {
    const c = this.graph.constants.get(t);
    if (c) return c.values;
    const node = this.producerOf(t);
    const v = node?.op === 'Constant' ? node.attrs.value_float ?? node.attrs.value_floats ?? node.attrs.value_int ?? node.attrs.value_ints : undefined;
    return v === undefined ? undefined : ([] as number[]).concat(v as number | number[]);
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
   * An activation applied to `t` by nodes that consume `t` (and their intermediates) only: its
   * kind, nodes and output tensor.
   */
  activation(t: string): { act: Act; nodes: OnnxNode[]; out: string } | undefined {
    const cs = this.consumersOf(t).filter((c) => !this.claimed.has(c));
    if (t === this.graph.output || cs.length !== this.consumersOf(t).length) return undefined;
    if (cs.length === 1) {
      const n = cs[0]!;
      if (n.op === 'Relu') return { act: 'relu', nodes: [n], out: n.outputs[0]! };
      if (n.op === 'HardSwish') return { act: 'hswish', nodes: [n], out: n.outputs[0]! };
      if (n.op === 'Clip' && this.clipRange(n) === '0,6') return { act: 'relu6', nodes: [n], out: n.outputs[0]! };
      // x * Clip(x + 3, 0, 6) / 6 comes as Add -> Clip -> Mul(x) -> Div only when x feeds Mul too, so not here.
    }
    if (cs.length === 2) {
      const gate = cs.find((c) => ['HardSigmoid', 'Sigmoid', 'Add'].includes(c.op));
      const mul = cs.find((c) => c.op === 'Mul');
      if (!gate || !mul) return undefined;
      if (gate.op === 'HardSigmoid' || gate.op === 'Sigmoid') {
        if (this.only(gate.outputs[0]!) !== mul) return undefined;
        return { act: gate.op === 'Sigmoid' ? 'swish' : 'hswish', nodes: [gate, mul], out: mul.outputs[0]! };
      }
      // hswish written out: Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6) or Mul(., 1/6)
      if (this.scalar(this.other(gate, t)) !== 3) return undefined;
      const clip = this.only(gate.outputs[0]!, 'Clip');
      if (!clip || this.clipRange(clip) !== '0,6' || this.only(clip.outputs[0]!) !== mul) return undefined;
      const scale = this.only(mul.outputs[0]!, ['Div', 'Mul']);
      const k = scale && this.scalar(this.other(scale, mul.outputs[0]!));
      if (!scale || !(scale.op === 'Div' ? k === 6 : Math.abs((k ?? 0) - 1 / 6) < 1e-6)) return undefined;
      return { act: 'hswish', nodes: [gate, clip, mul, scale], out: scale.outputs[0]! };
    }
    return undefined;
  }

  private clipRange(n: OnnxNode): string {
    const lo = n.inputs[1] ? this.scalar(n.inputs[1]) : (n.attrs.min as number | undefined);
    const hi = n.inputs[2] ? this.scalar(n.inputs[2]) : (n.attrs.max as number | undefined);
    return `${lo},${hi}`;
  }
}
