// A small ONNX graph builder over onnx-proto. Kernel specs emit nodes into it, so one kernel's
// emitter serves a standalone kernel model and a whole network alike.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Opset 20: the lowest that has Gelu, LayerNormalization and HardSwish as standard ops. */
export const OPSET = 20;
/** IR version 9 goes with opset 20; onnxruntime-node and onnxruntime-web 1.30 both accept it. */
export const IR_VERSION = 9;

export type Shape = readonly number[];

type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: 'ints', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

/** How an initializer's values are filled. Values matter little to timing but must avoid denormals. */
export type Fill = 'weights' | 'ones' | 'zeros' | 'positive';

function toAttributeProto(name: string, a: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function valueInfo(name: string, shape: Shape): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  };
}

/** Weights up to this size keep their values in a structure-only model (decomposition reads small constants). */
export const STRUCTURE_ONLY_MAX_ELEMENTS = 64;

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly counters = new Map<string, number>();
  private seed: number;

  /**
   * `structureOnly`: weights of more than STRUCTURE_ONLY_MAX_ELEMENTS elements get dims and no
   * values (as stripWeights leaves them): enough for reading the graph (decomposition), not for
   * running it, and several times faster to build.
   */
  constructor(
    seed = 1,
    private readonly structureOnly = false,
  ) {
    this.seed = seed >>> 0 || 1;
  }

  /** A fresh tensor name with a readable prefix. */
  name(prefix: string): string {
    const n = this.counters.get(prefix) ?? 0;
    this.counters.set(prefix, n + 1);
    return `${prefix}_${n}`;
  }

  input(name: string, shape: Shape): string {
    this.inputs.push(valueInfo(name, shape));
    return name;
  }

  output(name: string, shape: Shape): void {
    this.outputs.push(valueInfo(name, shape));
  }

  /** A float32 initializer. */
  weight(prefix: string, dims: Shape, fill: Fill = 'weights'): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (this.structureOnly && size > STRUCTURE_ONLY_MAX_ELEMENTS) {
      const name = this.name(prefix);
      this.initializers.push({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array() });
      return name;
    }
    const data = new Float32Array(size);
    if (fill === 'ones') data.fill(1);
    else if (fill !== 'zeros') {
      for (let i = 0; i < size; i++) {
        // xorshift32: deterministic, fast for multi-megabyte weights.
        this.seed ^= this.seed << 13;
        this.seed >>>= 0;
        this.seed ^= this.seed >>> 17;
        this.seed ^= this.seed << 5;
        this.seed >>>= 0;
        const u = this.seed / 0x100000000;
        data[i] = fill === 'positive' ? 0.5 + u : (u - 0.5) * 0.1;
      }
    }
    const name = this.name(prefix);
    this.initializers.push({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** An int64 initializer (shapes, slice bounds, split sizes). */
  int64s(prefix: string, values: readonly number[]): string {
    const name = this.name(prefix);
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: [...values] });
    return name;
  }

  /** A small float vector initializer (Resize scales). */
  floats(prefix: string, values: readonly number[]): string {
    const name = this.name(prefix);
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [...values] });
    return name;
  }

  /** A float scalar initializer (Clip bounds, scale factors). */
  scalar(prefix: string, value: number): string {
    const name = this.name(prefix);
    this.initializers.push({ name, dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [value] });
    return name;
  }

  /** Adds a node; returns its output names (one unless `outputs` says more). */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    outputs = 1,
    namePrefix = `n_${opType}`,
  ): string[] {
    const outs = Array.from({ length: outputs }, () => this.name(opType.toLowerCase()));
    this.nodes.push({
      opType,
      name: this.name(namePrefix),
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => toAttributeProto(k, v)),
    });
    return outs;
  }

  /** Single-output convenience form of node(). */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(opType, inputs, attrs, 1)[0]!;
  }

  encode(graphName: string): Uint8Array {
    return onnx.ModelProto.encode({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'litepred',
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    }).finish();
  }
}
