// Standalone kernel models and chains of kernels (networks) as ONNX bytes.
import { GraphBuilder, type Shape } from './graph.js';
import type { KernelConfig, ResolvedConfig } from './config.js';
import { getKernelSpec, resolveConfig, type ValidateOptions } from './registry.js';

export interface BuiltModel {
  bytes: Uint8Array;
  inputs: { name: string; shape: Shape }[];
  outputs: { name: string; shape: Shape }[];
}

export interface KernelModelOptions extends ValidateOptions {
  /**
   * 'sink' (default) reduces every output to its first element through a Slice, so the runtime
   * copies four bytes out instead of the whole activation: a kernel inside a network hands its
   * output to the next kernel and is never copied out. 'full' exposes the outputs as they are.
   */
  outputs?: 'sink' | 'full';
  seed?: number;
}

/** The name given to the Slice sink node, so profilers can tell it from the kernel's own nodes. */
export const SINK_PREFIX = 'litepred_sink';

function sink(g: GraphBuilder, name: string, shape: Shape): string {
  const zeros = shape.map(() => 0);
  const ones = shape.map(() => 1);
  return g.node('Slice', [name, g.int64s(`${SINK_PREFIX}_start`, zeros), g.int64s(`${SINK_PREFIX}_end`, ones)], {}, 1, SINK_PREFIX)[0]!;
}

export function buildKernelModel(config: KernelConfig, options: KernelModelOptions = {}): BuiltModel {
  const c = resolveConfig(config, options);
  const spec = getKernelSpec(c.type);
  const g = new GraphBuilder(options.seed);
  const inputs = spec.inputShapes(c).map((shape, i) => ({ name: g.input(`input_${i}`, shape), shape }));
  const outNames = spec.emit(g, inputs.map((i) => i.name), c);
  const outShapes = spec.outputShapes(c);
  const outputs: BuiltModel['outputs'] = [];
  if ((options.outputs ?? 'sink') === 'full') {
    outNames.forEach((name, i) => { g.output(name, outShapes[i]!); outputs.push({ name, shape: outShapes[i]! }); });
  } else {
    const sinks = outNames.map((name, i) => sink(g, name, outShapes[i]!));
    const rank = outShapes[0]!.length;
    const name = sinks.length === 1 ? sinks[0]! : g.node('Sum', sinks, {}, 1, SINK_PREFIX)[0]!;
    const shape = Array.from({ length: rank }, () => 1);
    g.output(name, shape);
    outputs.push({ name, shape });
  }
  return { bytes: g.encode(c.type), inputs, outputs };
}

/** One layer of a network: a kernel config and which earlier tensors feed it. */
export interface NetworkLayer {
  config: KernelConfig;
  /** Indices of earlier layers whose (first) output this layer consumes; -1 is the network input. Default: the previous layer. */
  from?: number[];
}

/**
 * Builds a network from kernels with the same emitters as the standalone kernels, so a network's
 * latency can be compared with the sum of its kernels'. Layer shapes must chain; the last layer's
 * output is the network output.
 */
export function buildNetworkModel(layers: readonly NetworkLayer[], inputShape: Shape, options: { seed?: number } = {}): BuiltModel {
  if (layers.length === 0) throw new Error('a network needs at least one layer');
  const g = new GraphBuilder(options.seed);
  const input = g.input('input_0', inputShape);
  const names: string[] = [];
  const shapes: Shape[] = [];
  let last: ResolvedConfig | undefined;
  layers.forEach((layer, i) => {
    const c = resolveConfig(layer.config);
    const spec = getKernelSpec(c.type);
    const from = layer.from ?? [i - 1];
    const feeds = from.map((j) => (j < 0 ? input : names[j]!));
    const feedShapes = from.map((j) => (j < 0 ? inputShape : shapes[j]!));
    spec.inputShapes(c).forEach((want, k) => {
      if (want.join('x') !== feedShapes[k]?.join('x')) {
        throw new Error(`layer ${i} (${c.type}) wants input ${k} of shape [${want.join(', ')}] but gets [${feedShapes[k]?.join(', ') ?? 'nothing'}]`);
      }
    });
    names.push(spec.emit(g, feeds, c)[0]!);
    shapes.push(spec.outputShapes(c)[0]!);
    last = c;
  });
  const outShape = shapes[shapes.length - 1]!;
  g.output(names[names.length - 1]!, outShape);
  return { bytes: g.encode(`network_${last!.type}`), inputs: [{ name: input, shape: inputShape }], outputs: [{ name: names[names.length - 1]!, shape: outShape }] };
}

/**
 * A model that takes the given inputs and does nothing but sink them: what session.run costs
 * with these inputs and no kernel. Used to calibrate run overhead where no node profile exists.
 */
export function buildNullModel(inputShapes: readonly Shape[]): BuiltModel {
  const g = new GraphBuilder();
  const inputs = inputShapes.map((shape, i) => ({ name: g.input(`input_${i}`, shape), shape }));
  const sinks = inputs.map((i) => sink(g, i.name, i.shape));
  const name = sinks.length === 1 ? sinks[0]! : g.node('Sum', sinks, {}, 1, SINK_PREFIX)[0]!;
  const shape = inputShapes[0]!.map(() => 1);
  g.output(name, shape);
  return { bytes: g.encode('null'), inputs, outputs: [{ name, shape }] };
}
