// Whole networks built from the kernel library (MobileNetV2/V3- and ResNet-style stacks), so a
// network's end-to-end latency can be checked against the sum of its kernels'. They end at
// global average pooling: the classifier needs a Flatten the kernel library does not model.
import type { KernelConfig } from './config.js';
import type { NetworkLayer } from './model.js';
import type { Shape } from './graph.js';

export interface NetworkDef {
  name: string;
  inputShape: Shape;
  layers: NetworkLayer[];
}

/** Deterministic PRNG (mulberry32) so a seed names a network. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const round8 = (x: number) => Math.max(8, Math.round(x / 8) * 8);

class Stack {
  readonly layers: NetworkLayer[] = [];
  constructor(public hw: number, public channels: number) {}
  get last(): number { return this.layers.length - 1; }
  add(config: KernelConfig, from?: number[]): number {
    this.layers.push(from ? { config, from } : { config });
    return this.last;
  }
  conv(type: string, cout: number, k: number, s: number): number {
    const i = this.add({ type, HW: this.hw, CIN: this.channels, COUT: cout, KERNEL_SIZE: k, STRIDES: s });
    this.hw = Math.ceil(this.hw / s);
    this.channels = cout;
    return i;
  }
  dwconv(type: string, k: number, s: number): number {
    const i = this.add({ type, HW: this.hw, CIN: this.channels, KERNEL_SIZE: k, STRIDES: s });
    this.hw = Math.ceil(this.hw / s);
    return i;
  }
  residual(type: 'add' | 'add-relu', a: number, b: number): number {
    return this.add({ type, HW: this.hw, CIN: this.channels }, [a, b]);
  }
  pool(): void {
    this.add({ type: 'global-avgpool', HW: this.hw, CIN: this.channels });
  }
}

/** MobileNetV2 (ProxylessNAS-like) with random width, expansion and kernel choices. */
export function mobileNetV2(seed: number): NetworkDef {
  const r = rng(seed);
  const hw = pick(r, [96, 128, 160, 192, 224]);
  const width = pick(r, [0.35, 0.5, 0.75, 1.0]);
  const st = new Stack(hw, 3);
  st.conv('conv-bn-relu6', round8(32 * width), 3, 2);
  const stages: [number, number, number][] = [[16, 1, 1], [24, 2, 2], [32, 3, 2], [64, 4, 2], [96, 3, 1], [160, 3, 2], [320, 1, 1]];
  for (const [c, n, s] of stages) {
    const depth = Math.max(1, n - Math.floor(r() * 2));
    for (let b = 0; b < depth; b++) {
      const stride = b === 0 ? s : 1;
      const cin = st.channels;
      const cout = round8(c * width);
      const input = st.last;
      const t = c === 16 ? 1 : pick(r, [3, 4, 6]);
      if (t > 1) st.conv('conv-bn-relu6', round8(cin * t), 1, 1);
      st.dwconv('dwconv-bn-relu6', pick(r, [3, 5, 7]), stride);
      const out = st.conv('conv-bn', cout, 1, 1);
      if (stride === 1 && cin === cout) st.residual('add', input, out);
    }
  }
  st.conv('conv-bn-relu6', round8(1280 * Math.max(1, width)), 1, 1);
  st.pool();
  return { name: `mbv2-${seed}-r${hw}-w${width}`, inputShape: [1, 3, hw, hw], layers: st.layers };
}

/** MobileNetV3-large-like (Once-for-All) with SE blocks and hswish. */
export function mobileNetV3(seed: number): NetworkDef {
  const r = rng(seed);
  const hw = pick(r, [128, 160, 192, 224]);
  const st = new Stack(hw, 3);
  st.conv('conv-bn-hswish', 16, 3, 2);
  const stages: [number, number, boolean, boolean][] = [[24, 2, false, false], [40, 2, true, false], [80, 2, false, true], [112, 1, true, true], [160, 2, true, true]];
  for (const [c, s, se, hswish] of stages) {
    const depth = pick(r, [2, 3, 4]);
    for (let b = 0; b < depth; b++) {
      const stride = b === 0 ? s : 1;
      const cin = st.channels;
      const input = st.last;
      st.conv(hswish ? 'conv-bn-hswish' : 'conv-bn-relu', round8(cin * pick(r, [3, 4, 6])), 1, 1);
      st.dwconv(hswish ? 'dwconv-bn-hswish' : 'dwconv-bn-relu', pick(r, [3, 5, 7]), stride);
      if (se) st.add({ type: 'se', HW: st.hw, CIN: st.channels });
      const out = st.conv('conv-bn', c, 1, 1);
      if (stride === 1 && cin === c) st.residual('add', input, out);
    }
  }
  st.conv('conv-bn-hswish', 960, 1, 1);
  st.pool();
  return { name: `mbv3-${seed}-r${hw}`, inputShape: [1, 3, hw, hw], layers: st.layers };
}

/** ResNet with basic blocks (Once-for-All ResNet-like widths and depths). */
export function resNet(seed: number): NetworkDef {
  const r = rng(seed);
  const hw = pick(r, [96, 128, 160, 224]);
  const width = pick(r, [0.5, 0.75, 1.0]);
  const st = new Stack(hw, 3);
  st.conv('conv-bn-relu', round8(64 * width), 7, 2);
  st.add({ type: 'maxpool', HW: st.hw, CIN: st.channels, KERNEL_SIZE: 3, STRIDES: 2 });
  st.hw = Math.ceil(st.hw / 2);
  for (const [c, s] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
    const depth = pick(r, [1, 2]);
    for (let b = 0; b < depth; b++) {
      const stride = b === 0 ? s : 1;
      const input = st.last;
      const [inHw, cin] = [st.hw, st.channels];
      const cout = round8(c * width);
      st.conv('conv-bn-relu', cout, 3, stride);
      const main = st.conv('conv-bn', cout, 3, 1);
      let shortcut = input;
      if (stride !== 1 || cin !== cout) {
        shortcut = st.add({ type: 'conv-bn', HW: inHw, CIN: cin, COUT: cout, KERNEL_SIZE: 1, STRIDES: stride }, [input]);
      }
      st.residual('add-relu', main, shortcut);
    }
  }
  st.pool();
  return { name: `resnet-${seed}-r${hw}-w${width}`, inputShape: [1, 3, hw, hw], layers: st.layers };
}

/** `count` networks cycling through the three families, seeded. */
export function sampleNetworks(count: number, seed = 1): NetworkDef[] {
  const makers = [mobileNetV2, mobileNetV3, resNet];
  return Array.from({ length: count }, (_, i) => makers[i % makers.length]!(seed * 1000 + i));
}
