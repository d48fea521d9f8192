// Standalone kernel models and chains of kernels (networks) as ONNX bytes.
import { attr, GraphBuilder, type Shape } from './graph.js';
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
  /**
   * Bytes of a buffer read (ReduceMax) before the kernel on every run, evicting the kernel's
   * weights from the caches as the rest of a network would. The buffer is an overridable
   * initializer so the optimizer cannot fold the read away. Default 0: no scrub.
   */
  scrubBytes?: number;
}

/** The name prefix of the cache-scrub node, so profilers can leave it out of the kernel's time. */
export const SCRUB_PREFIX = 'litepred_scrub';

function scrub(g: GraphBuilder, bytes: number): string {
  const n = Math.max(1, Math.round(bytes / 4));
  const buffer = g.weight(SCRUB_PREFIX, [n]);
  g.input(buffer, [n]);
  return g.node('ReduceMax', [buffer], { keepdims: attr.int(0) }, 1, SCRUB_PREFIX)[0]!;
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
  // Emitted first, so the sequential executor runs it before the kernel.
  const scrubbed = options.scrubBytes ? scrub(g, options.scrubBytes) : undefined;
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
  if (scrubbed) g.output(scrubbed, []);
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
export function buildNullModel(inputShapes: readonly Shape[], options: { scrubBytes?: number } = {}): BuiltModel {
  const g = new GraphBuilder();
  const inputs = inputShapes.map((shape, i) => ({ name: g.input(`input_${i}`, shape), shape }));
  if (options.scrubBytes) g.output(scrub(g, options.scrubBytes), []);
  const sinks = inputs.map((i) => sink(g, i.name, i.shape));
  const name = sinks.length === 1 ? sinks[0]! : g.node('Sum', sinks, {}, 1, SINK_PREFIX)[0]!;
  const shape = inputShapes[0]!.map(() => 1);
  g.output(name, shape);
  return { bytes: g.encode('null'), inputs, outputs: [{ name, shape }] };
}

/**
 * A chain of `length` one-element Relu nodes: timed with and without the runtime's per-node
 * profiler, it shows what the profiler itself adds to every node's duration.
 */
export function buildTrivialChainModel(length: number): BuiltModel {
  const g = new GraphBuilder();
  const shape = [1, 1];
  let x = g.input('input_0', shape);
  for (let i = 0; i < length; i++) x = g.op('Relu', [x]);
  const name = sink(g, x, shape);
  g.output(name, shape);
  return { bytes: g.encode('trivial_chain'), inputs: [{ name: 'input_0', shape }], outputs: [{ name, shape }] };
}
