// A builder for networks made of kernel-library kernels: each method appends one kernel (or glue)
// fed by the previous layer or a given one, and works out the output shape, so a space's code
// reads like the paper's block diagram.
import {
  getKernelSpec,
  glueOutputShape,
  resolveConfig,
  type Glue,
  type KernelConfig,
  type LayerRef,
  type NetworkLayer,
  type Shape,
} from '@litepred/kernels';

export class NetworkStack {
  readonly layers: NetworkLayer[] = [];
  private readonly shapes: Shape[][] = [];
  private head: LayerRef | undefined;

  constructor(readonly inputShape: Shape) {}

  /** The default input of the next layer: the last layer (-1: the network input), unless moved. */
  get last(): LayerRef {
    return this.head ?? this.layers.length - 1;
  }

  /** Makes an earlier output the input of the next layer (a block whose output is a skip). */
  moveTo(ref: LayerRef): void {
    this.head = ref;
  }

  /** Shape of an earlier output. */
  shape(ref: LayerRef = this.last): Shape {
    const [j, k] = typeof ref === 'number' ? [ref, 0] : ref;
    return j < 0 ? this.inputShape : this.shapes[j]![k]!;
  }

  /** Channels (NCHW) or embedding width (tokens) of an earlier output. */
  channels(ref: LayerRef = this.last): number {
    const s = this.shape(ref);
    return s.length === 3 ? s[2]! : s[1]!;
  }

  hw(ref: LayerRef = this.last): number {
    return this.shape(ref)[2]!;
  }
  tokens(ref: LayerRef = this.last): number {
    return this.shape(ref)[1]!;
  }

  /** Appends a kernel; the config is validated by the kernel library here, not at build time. */
  kernel(config: KernelConfig, from: LayerRef[] = [this.last]): number {
    const c = resolveConfig(config);
    const implicit = from.length === 1 && from[0] === this.layers.length - 1;
    this.layers.push(implicit ? { config } : { config, from });
    return this.appended(getKernelSpec(c.type).outputShapes(c));
  }

  private appended(shapes: Shape[]): number {
    this.shapes.push(shapes);
    this.head = undefined;
    return this.layers.length - 1;
  }

  glue(glue: Glue, options: { patch?: number; from?: LayerRef } = {}): number {
    const from = options.from ?? this.last;
    const p = options.patch ?? 16;
    this.layers.push({ glue, ...(glue === 'patchify' ? { patch: p } : {}), from: [from] });
    return this.appended([glueOutputShape(glue, this.shape(from), p)]);
  }

  conv(type: string, cout: number, k: number, stride = 1, options: { groups?: number; from?: LayerRef } = {}): number {
    const from = options.from ?? this.last;
    const groups = options.groups && options.groups > 1 ? { GROUPS: options.groups } : {};
    return this.kernel({ type, HW: this.hw(from), CIN: this.channels(from), COUT: cout, KERNEL_SIZE: k, STRIDES: stride, ...groups }, [
      from,
    ]);
  }

  dwconv(type: string, k: number, stride = 1, from: LayerRef = this.last): number {
    return this.kernel({ type, HW: this.hw(from), CIN: this.channels(from), KERNEL_SIZE: k, STRIDES: stride }, [from]);
  }

  pool(type: 'maxpool' | 'avgpool', k: number, stride: number, from: LayerRef = this.last): number {
    return this.kernel({ type, HW: this.hw(from), CIN: this.channels(from), KERNEL_SIZE: k, STRIDES: stride }, [from]);
  }

  /** A one-input NCHW kernel of HW, CIN (relu, bn-relu, se, channelshuffle, split, global-avgpool). */
  nchw(type: string, from: LayerRef = this.last): number {
    return this.kernel({ type, HW: this.hw(from), CIN: this.channels(from) }, [from]);
  }

  add(type: 'add' | 'add-relu', a: LayerRef, b: LayerRef): number {
    return this.kernel({ type, HW: this.hw(a), CIN: this.channels(a) }, [a, b]);
  }

  concat(inputs: LayerRef[]): number {
    const cins = Object.fromEntries(inputs.map((ref, i) => [`CIN${i + 1}`, this.channels(ref)]));
    return this.kernel({ type: 'concat', HW: this.hw(inputs[0]), ...cins }, inputs);
  }

  /** Global average pool, flatten, and the classifier. */
  classifier(classes: number): number {
    this.nchw('global-avgpool');
    this.glue('flatten');
    return this.fc('fc', classes);
  }

  fc(type: 'fc' | 'fc-relu', cout: number, from: LayerRef = this.last): number {
    return this.kernel({ type, CIN: this.channels(from), COUT: cout }, [from]);
  }

  /** A token kernel of L, CIN (layernorm, gelu, softmax); mhsa takes HEADS, matmul COUT. */
  token(type: string, extra: { HEADS?: number; COUT?: number } = {}, from: LayerRef = this.last): number {
    return this.kernel({ type, L: this.tokens(from), CIN: this.channels(from), ...extra }, [from]);
  }

  tokenAdd(a: LayerRef, b: LayerRef): number {
    return this.kernel({ type: 'token-add', L: this.tokens(a), CIN: this.channels(a) }, [a, b]);
  }
}
