// Once-for-All MobileNetV3 (Cai et al., ICLR'20): per stage depth {2,3,4}, per block kernel
// {3,5,7} and expand {3,4,6}, input resolution 128..224 in steps of 4.
import { NetworkStack } from '../stack.js';
import { pick, range } from '../rng.js';
import type { SearchSpace } from '../space.js';
import { mbConv } from '../blocks.js';

// width, stride, activation, squeeze-and-excitation
const STAGES = [
  [24, 2, 'relu', false],
  [40, 2, 'relu', true],
  [80, 2, 'hswish', false],
  [112, 1, 'hswish', true],
  [160, 2, 'hswish', true],
] as const;

export const ofaMbv3: SearchSpace = {
  name: 'ofa-mbv3',
  title: 'Once-for-All MobileNetV3',
  source: 'Cai et al.: Once-for-All, ICLR 2020; MobileNetV3-large base, width multiplier 1.0',
  resolutions: range(128, 224, 4),
  sample(r) {
    const hw = pick(r, this.resolutions);
    const st = new NetworkStack([1, 3, hw, hw]);
    st.conv('conv-bn-hswish', 16, 3, 2);
    mbConv(st, 16, 3, 1, 1, { expand: '', dw: 'dwconv-bn-relu' });
    const depths: number[] = [];
    const blocks: string[] = [];
    for (const [width, stride, act, se] of STAGES) {
      const depth = pick(r, [2, 3, 4]);
      depths.push(depth);
      for (let b = 0; b < depth; b++) {
        const [k, e] = [pick(r, [3, 5, 7]), pick(r, [3, 4, 6])];
        blocks.push(`k${k}_e${e}`);
        mbConv(st, width, k, b === 0 ? stride : 1, e, { expand: `conv-bn-${act}`, dw: `dwconv-bn-${act}` }, se);
      }
    }
    st.conv('conv-bn-hswish', 960, 1);
    st.nchw('global-avgpool');
    st.conv('conv-hswish', 1280, 1);
    st.glue('flatten');
    st.fc('fc', 1000);
    return { choices: { resolution: hw, depths, blocks }, inputShape: st.inputShape, layers: st.layers };
  },
};
