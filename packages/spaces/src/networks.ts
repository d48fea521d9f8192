// Networks for checking that a network's latency composes from its kernels' (bench:timing):
// MobileNetV2/V3- and ResNet-style stacks with random widths and choices. They end at global
// average pooling, so every layer is a kernel and no classifier glue is timed.
import type { NetworkLayer, Shape } from '@litepred/kernels';
import { NetworkStack } from './stack.js';
import { mbConv } from './blocks.js';
import { pick, rng } from './rng.js';

export interface NetworkDef {
  name: string;
  inputShape: Shape;
  layers: NetworkLayer[];
}

const round8 = (x: number) => Math.max(8, Math.round(x / 8) * 8);

const inverted = (st: NetworkStack, cout: number, k: number, stride: number, expand: number, act: string, se = false) =>
  mbConv(st, cout, k, stride, expand, { expand: `conv-bn-${act}`, dw: `dwconv-bn-${act}` }, se, round8);

/** MobileNetV2 (ProxylessNAS-like) with random width, expansion and kernel choices. */
export function mobileNetV2(seed: number): NetworkDef {
  const r = rng(seed);
  const hw = pick(r, [96, 128, 160, 192, 224]);
  const width = pick(r, [0.35, 0.5, 0.75, 1.0]);
  const st = new NetworkStack([1, 3, hw, hw]);
  st.conv('conv-bn-relu6', round8(32 * width), 3, 2);
  const stages: [number, number, number][] = [
    [16, 1, 1],
    [24, 2, 2],
    [32, 3, 2],
    [64, 4, 2],
    [96, 3, 1],
    [160, 3, 2],
    [320, 1, 1],
  ];
  for (const [c, n, s] of stages) {
    const depth = Math.max(1, n - Math.floor(r() * 2));
    for (let b = 0; b < depth; b++)
      inverted(st, round8(c * width), pick(r, [3, 5, 7]), b === 0 ? s : 1, c === 16 ? 1 : pick(r, [3, 4, 6]), 'relu6');
  }
  st.conv('conv-bn-relu6', round8(1280 * Math.max(1, width)), 1);
  st.nchw('global-avgpool');
  return { name: `mbv2-${seed}-r${hw}-w${width}`, inputShape: st.inputShape, layers: st.layers };
}

/** MobileNetV3-large-like (Once-for-All) with SE blocks and hswish. */
export function mobileNetV3(seed: number): NetworkDef {
  const r = rng(seed);
  const hw = pick(r, [128, 160, 192, 224]);
  const st = new NetworkStack([1, 3, hw, hw]);
  st.conv('conv-bn-hswish', 16, 3, 2);
  const stages: [number, number, boolean, boolean][] = [
    [24, 2, false, false],
    [40, 2, true, false],
    [80, 2, false, true],
    [112, 1, true, true],
    [160, 2, true, true],
  ];
  for (const [c, s, se, hswish] of stages) {
    const depth = pick(r, [2, 3, 4]);
    for (let b = 0; b < depth; b++)
      inverted(st, c, pick(r, [3, 5, 7]), b === 0 ? s : 1, pick(r, [3, 4, 6]), hswish ? 'hswish' : 'relu', se);
  }
  st.conv('conv-bn-hswish', 960, 1);
  st.nchw('global-avgpool');
  return { name: `mbv3-${seed}-r${hw}`, inputShape: st.inputShape, layers: st.layers };
}

/** ResNet with basic blocks (Once-for-All ResNet-like widths and depths). */
export function resNet(seed: number): NetworkDef {
  const r = rng(seed);
  const hw = pick(r, [96, 128, 160, 224]);
  const width = pick(r, [0.5, 0.75, 1.0]);
  const st = new NetworkStack([1, 3, hw, hw]);
  st.conv('conv-bn-relu', round8(64 * width), 7, 2);
  st.pool('maxpool', 3, 2);
  for (const [c, s] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ] as const) {
    const depth = pick(r, [1, 2]);
    for (let b = 0; b < depth; b++) {
      const stride = b === 0 ? s : 1;
      const input = st.last;
      const cout = round8(c * width);
      st.conv('conv-bn-relu', cout, 3, stride);
      const main = st.conv('conv-bn', cout, 3, 1);
      const shortcut = stride !== 1 || st.channels(input) !== cout ? st.conv('conv-bn', cout, 1, stride, { from: input }) : input;
      st.add('add-relu', main, shortcut);
    }
  }
  st.nchw('global-avgpool');
  return { name: `resnet-${seed}-r${hw}-w${width}`, inputShape: st.inputShape, layers: st.layers };
}

/** `count` networks cycling through the three families, seeded. */
export function sampleNetworks(count: number, seed = 1): NetworkDef[] {
  const makers = [mobileNetV2, mobileNetV3, resNet];
  return Array.from({ length: count }, (_, i) => makers[i % makers.length]!(seed * 1000 + i));
}
