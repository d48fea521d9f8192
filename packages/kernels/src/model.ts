// Standalone kernel models and chains of kernels (networks) as ONNX bytes.
import { attr, GraphBuilder, type Shape } from './graph.js';
import type { KernelConfig, ResolvedConfig } from './config.js';
import { getKernelSpec, resolveConfig, type ValidateOptions } from './registry.js';

export interface BuiltModel {
  bytes: Uint8Array;
  inputs: { name: string; shape: Shape }[];
  outputs: { name: string; shape: Shape }[];
  /** A kernel model's one-element Slice sinks, one per output of each copy (its null model has as many). */
  sinks?: number;
  /** Its sinks flatten the output first (KernelSpec.sink); the null model paired with it must too. */
  flatSinks?: boolean;
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
  /**
   * Copies of the kernel in one model (default 1), so a kernel near the timer's resolution is
   * timed over a span many steps long and labelled per copy (`replication`).
   */
  copies?: number;
}

/**
 * How a model holds several copies of a kernel: a chain (each copy reads the one before; the
 * kernel's output has its first input's shape), side by side on the same inputs (each copy has
 * weights of its own, so the runtime cannot merge them as common subexpressions), or side by side
 * on inputs of their own (a weightless kernel: on shared inputs the copies would be one node after
 * common-subexpression elimination). A channel shuffle is never chained: two in a row are
 * transposes the optimizer cancels.
 */
export function replication(config: KernelConfig): 'chain' | 'shared-inputs' | 'own-inputs' {
  return replicationOf(resolveConfig(config));
}

function replicationOf(c: ResolvedConfig): 'chain' | 'shared-inputs' | 'own-inputs' {
  const spec = getKernelSpec(c.type);
  const [inShape, outShapes] = [spec.inputShapes(c)[0]!, spec.outputShapes(c)];
  if (outShapes.length === 1 && outShapes[0]!.join() === inShape.join() && c.type !== 'channelshuffle') return 'chain';
  return spec.params(c) > 0 ? 'shared-inputs' : 'own-inputs';
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

function sink(g: GraphBuilder, name: string, shape: Shape, flatten = false): string {
  if (flatten) {
    const flat = g.node('Reshape', [name, g.int64s(`${SINK_PREFIX}_flat`, [-1])], {}, 1, SINK_PREFIX)[0]!;
    return g.node('Slice', [flat, g.int64s(`${SINK_PREFIX}_start`, [0]), g.int64s(`${SINK_PREFIX}_end`, [1])], {}, 1, SINK_PREFIX)[0]!;
  }
  const zeros = shape.map(() => 0);
  const ones = shape.map(() => 1);
  return g.node('Slice', [name, g.int64s(`${SINK_PREFIX}_start`, zeros), g.int64s(`${SINK_PREFIX}_end`, ones)], {}, 1, SINK_PREFIX)[0]!;
}

export function buildKernelModel(config: KernelConfig, options: KernelModelOptions = {}): BuiltModel {
  const c = resolveConfig(config, options);
  const spec = getKernelSpec(c.type);
  const g = new GraphBuilder(options.seed);
  const shapes = spec.inputShapes(c);
  const inputs = shapes.map((shape, i) => ({ name: g.input(`input_${i}`, shape), shape }));
  // Emitted first, so the sequential executor runs it before the kernel.
  const scrubbed = options.scrubBytes ? scrub(g, options.scrubBytes) : undefined;
  const copies = options.copies ?? 1;
  if (!Number.isInteger(copies) || copies < 1) throw new Error(`copies: a positive whole number, not ${copies}`);
  const mode = copies > 1 ? replicationOf(c) : 'shared-inputs';
  const single = spec.outputShapes(c);
  let outNames: string[] = [];
  let outShapes: Shape[] = [];
  let feeds = inputs.map((i) => i.name);
  for (let k = 0; k < copies; k++) {
    if (mode === 'own-inputs' && k > 0)
      feeds = shapes.map((shape, i) => {
        inputs.push({ name: g.input(`input_${i}_copy${k}`, shape), shape });
        return inputs.at(-1)!.name;
      });
    const out = spec.emit(g, feeds, c);
    if (mode === 'chain') {
      feeds = [out[0]!, ...feeds.slice(1)];
      [outNames, outShapes] = [out, single];
    } else {
      outNames.push(...out);
      outShapes.push(...single);
    }
  }
  const outputs: BuiltModel['outputs'] = [];
  const sinking = (options.outputs ?? 'sink') !== 'full';
  if (!sinking) {
    outNames.forEach((name, i) => {
      g.output(name, outShapes[i]!);
      outputs.push({ name, shape: outShapes[i]! });
    });
  } else {
    const flatten = spec.sink === 'flatten';
    const sinks = outNames.map((name, i) => sink(g, name, outShapes[i]!, flatten));
    const rank = flatten ? 1 : outShapes[0]!.length;
    const name = sinks.length === 1 ? sinks[0]! : g.node('Sum', sinks, {}, 1, SINK_PREFIX)[0]!;
    const shape = Array.from({ length: rank }, () => 1);
    g.output(name, shape);
    outputs.push({ name, shape });
  }
  if (scrubbed) g.output(scrubbed, []);
  return {
    bytes: g.encode(c.type),
    inputs,
    outputs,
    ...(sinking ? { sinks: outNames.length, ...(spec.sink === 'flatten' ? { flatSinks: true } : {}) } : {}),
  };
}

/**
 * A layer's input: an earlier layer's index (its first output), [index, output] for another output
 * (a split's second half), or -1 for the network input.
 */
export type LayerRef = number | readonly [number, number];

/** One kernel of a network and which earlier tensors feed it (default: the previous layer). */
export interface KernelLayer {
  config: KernelConfig;
  from?: readonly LayerRef[];
}

/**
 * Data movement between kernels that real exported models have and no latency predictor models
 * (it costs a reshape): flatten [1,C,1,1] to [1,C]; NCHW to tokens [1,HW,C]; cut an image into
 * patch tokens [1, (H/p)(W/p), C·p·p]; prepend a class token; take the first token as [1,C].
 */
export type Glue = 'flatten' | 'tokens' | 'patchify' | 'cls-token' | 'first-token';

export interface GlueLayer {
  glue: Glue;
  /** Patch size for 'patchify'. */
  patch?: number;
  from?: readonly LayerRef[];
}

export type NetworkLayer = KernelLayer | GlueLayer;

export const isKernelLayer = (layer: NetworkLayer): layer is KernelLayer => 'config' in layer;

/** The prefix of glue node names, so a network's kernels can be told from its reshapes. */
export const GLUE_PREFIX = 'glue';

/** The shape a glue layer turns `shape` into. */
export function glueOutputShape(glue: Glue, shape: Shape, patch = 16): Shape {
  const [, a = 1, b = 1, w = 1] = shape;
  switch (glue) {
    case 'flatten':
      return [1, a * b * w];
    case 'tokens':
      return [1, b * w, a]; // [1, C, H, W] -> [1, HW, C]
    case 'patchify':
      return [1, (b / patch) * (w / patch), a * patch * patch];
    case 'cls-token':
      return [1, a + 1, b]; // [1, L, C] -> [1, L + 1, C]
    case 'first-token':
      return [1, b]; // [1, L, C] -> [1, C]
  }
}

function emitGlue(g: GraphBuilder, layer: GlueLayer, x: string, shape: Shape): { name: string; shape: Shape } {
  const op = (type: string, inputs: string[], attrs = {}) => g.node(type, inputs, attrs, 1, `${GLUE_PREFIX}_${type}`)[0]!;
  const reshape = (t: string, to: Shape) => op('Reshape', [t, g.int64s('glue_shape', to)]);
  const [, c = 1, h = 1, w = 1] = shape;
  const p = layer.patch ?? 16;
  const out = glueOutputShape(layer.glue, shape, p);
  const emit = (): string => {
    switch (layer.glue) {
      case 'flatten':
        return reshape(x, out);
      case 'tokens':
        return op('Transpose', [reshape(x, [1, c, h * w])], { perm: attr.ints([0, 2, 1]) });
      case 'patchify': {
        if (h % p !== 0 || w % p !== 0) throw new Error(`patchify: input ${h}x${w} is not a multiple of the patch size ${p}`);
        const moved = op('Transpose', [reshape(x, [1, c, h / p, p, w / p, p])], { perm: attr.ints([0, 2, 4, 1, 3, 5]) });
        return reshape(moved, out);
      }
      case 'cls-token':
        return op('Concat', [g.weight('cls_token', [1, 1, shape[2]!]), x], { axis: attr.int(1) });
      case 'first-token':
        return reshape(op('Slice', [x, g.int64s('glue_start', [0]), g.int64s('glue_end', [1]), g.int64s('glue_axis', [1])]), out);
    }
  };
  return { name: emit(), shape: out };
}

/**
 * Builds a network from kernels with the same emitters as the standalone kernels, so a network's
 * latency can be compared with the sum of its kernels'. Layer shapes must chain; the last layer's
 * output is the network output.
 */
export function buildNetworkModel(
  layers: readonly NetworkLayer[],
  inputShape: Shape,
  options: { seed?: number; structureOnly?: boolean } = {},
): BuiltModel {
  if (layers.length === 0) throw new Error('a network needs at least one layer');
  const g = new GraphBuilder(options.seed, options.structureOnly);
  const input = g.input('input_0', inputShape);
  const outputs: { name: string; shape: Shape }[][] = [];
  const feed = (ref: LayerRef, i: number) => {
    const [j, k] = typeof ref === 'number' ? [ref, 0] : ref;
    if (j < 0) return { name: input, shape: inputShape };
    const out = j < i ? outputs[j]?.[k] : undefined;
    if (!out) throw new Error(`layer ${i} takes output ${k} of layer ${j}, which does not exist before it`);
    return out;
  };
  layers.forEach((layer, i) => {
    const feeds = (layer.from ?? [i - 1]).map((ref) => feed(ref, i));
    if (!isKernelLayer(layer)) {
      outputs.push([emitGlue(g, layer, feeds[0]!.name, feeds[0]!.shape)]);
      return;
    }
    const c = resolveConfig(layer.config);
    const spec = getKernelSpec(c.type);
    spec.inputShapes(c).forEach((want, k) => {
      if (want.join('x') !== feeds[k]?.shape.join('x')) {
        throw new Error(
          `layer ${i} (${c.type}) wants input ${k} of shape [${want.join(', ')}] but gets [${feeds[k]?.shape.join(', ') ?? 'nothing'}]`,
        );
      }
    });
    const names = spec.emit(
      g,
      feeds.map((f) => f.name),
      c,
    );
    const shapes = spec.outputShapes(c);
    outputs.push(names.map((name, k) => ({ name, shape: shapes[k]! })));
  });
  const out = outputs[outputs.length - 1]![0]!;
  g.output(out.name, out.shape);
  return { bytes: g.encode('network'), inputs: [{ name: input, shape: inputShape }], outputs: [out] };
}

/**
 * A model that takes the given inputs and does nothing but sink them: what session.run costs
 * with these inputs and no kernel. Used to calibrate run overhead where no node profile exists.
 */
export function buildNullModel(
  inputShapes: readonly Shape[],
  options: { scrubBytes?: number; sinks?: number; flatten?: boolean } = {},
): BuiltModel {
  const g = new GraphBuilder();
  const inputs = inputShapes.map((shape, i) => ({ name: g.input(`input_${i}`, shape), shape }));
  if (options.scrubBytes) g.output(scrub(g, options.scrubBytes), []);
  // As many sinks as the kernel model it is paired with (taken from the inputs in turn): a sink is a
  // node the executor runs, and 128 concats of 4 inputs end in 128 sinks, not 512.
  const count = options.sinks ?? inputs.length;
  const sinks = Array.from({ length: count }, (_, k) => inputs[k % inputs.length]!).map((i) => sink(g, i.name, i.shape, options.flatten));
  const name = sinks.length === 1 ? sinks[0]! : g.node('Sum', sinks, {}, 1, SINK_PREFIX)[0]!;
  const shape = options.flatten ? [1] : inputShapes[0]!.map(() => 1);
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
