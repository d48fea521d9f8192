// ProxylessNAS (Cai et al., ICLR'19), the mobile space: MobileNetV2 inverted residual blocks
// with kernel {3,5,7} x expand {3,6} or a zero (skip) op per block, 224x224 input.
import { NetworkStack } from '../stack.js';
import { pick } from '../rng.js';
import { mbConv } from '../blocks.js';
import type { SearchSpace } from '../space.js';

const STAGES = [
  [24, 4, 2],
  [40, 4, 2],
  [80, 4, 2],
  [96, 4, 1],
  [192, 4, 2],
  [320, 1, 1],
] as const; // width, max depth, stride

export const proxylessNas: SearchSpace = {
  name: 'proxylessnas',
  title: 'ProxylessNAS (mobile)',
  source: 'Cai, Zhu, Han: ProxylessNAS, ICLR 2019; widths and strides of the mobile space, 224x224',
  resolutions: [224],
  sample(r) {
    const st = new NetworkStack([1, 3, 224, 224]);
    st.conv('conv-bn-relu6', 32, 3, 2);
    mbConv(st, 16, 3, 1, 1);
    const blocks: string[] = [];
    for (const [width, depth, stride] of STAGES) {
      for (let b = 0; b < depth; b++) {
        const s = b === 0 ? stride : 1;
        // The first block of a stage changes the shape, so it cannot be the zero op.
        const op = b === 0 ? pick(r, OPS.slice(1)) : pick(r, OPS);
        blocks.push(op);
        if (op === 'zero') continue;
        const [, k, e] = /k(\d)_e(\d)/.exec(op)!.map(Number);
        mbConv(st, width, k!, s, e!);
      }
    }
    st.conv('conv-bn-relu6', 1280, 1);
    st.classifier(1000);
    return { choices: { resolution: 224, blocks }, inputShape: st.inputShape, layers: st.layers };
  },
};

const OPS = ['zero', 'k3_e3', 'k3_e6', 'k5_e3', 'k5_e6', 'k7_e3', 'k7_e6'] as const;
