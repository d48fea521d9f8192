// FBNet (Wu et al., CVPR'19): 22 searchable layers, each one of nine candidate blocks: kernel
// {3,5} x expand {1,3,6} (expand 1 also with 2 groups and a channel shuffle) or skip.
import { NetworkStack } from '../stack.js';
import { pick } from '../rng.js';
import type { SearchSpace } from '../space.js';

const STAGES = [
  [16, 1, 1],
  [24, 4, 2],
  [32, 4, 2],
  [64, 4, 2],
  [112, 4, 1],
  [184, 4, 2],
  [352, 1, 1],
] as const; // width, layers, stride
const BLOCKS = ['k3_e1', 'k3_e1_g2', 'k3_e3', 'k3_e6', 'k5_e1', 'k5_e1_g2', 'k5_e3', 'k5_e6', 'skip'] as const;

function fbBlock(st: NetworkStack, block: string, cout: number, stride: number): void {
  const [, k, e, g] = /k(\d)_e(\d)(?:_g(\d))?/.exec(block)!.map((v) => (v === undefined ? 1 : Number(v)));
  const input = st.last;
  const cin = st.channels();
  st.conv('conv-bn-relu', cin * e!, 1, 1, { groups: g });
  if (g! > 1) st.nchw('channelshuffle');
  st.dwconv('dwconv-bn', k!, stride);
  const out = st.conv('conv-bn', cout, 1, 1, { groups: cout % g! === 0 ? g : 1 });
  if (stride === 1 && cin === cout) st.add('add', input, out);
}

export const fbnet: SearchSpace = {
  name: 'fbnet',
  title: 'FBNet',
  source: 'Wu et al.: FBNet, CVPR 2019; the 22-layer macro-architecture and 9 candidate blocks, 224x224',
  resolutions: [224],
  sample(r) {
    const st = new NetworkStack([1, 3, 224, 224]);
    st.conv('conv-bn-relu', 16, 3, 2);
    const blocks: string[] = [];
    for (const [width, layers, stride] of STAGES) {
      for (let b = 0; b < layers; b++) {
        const s = b === 0 ? stride : 1;
        // Skip is the identity: only where the block keeps the shape.
        const shapeKept = s === 1 && st.channels() === width;
        const block = pick(r, shapeKept ? BLOCKS : BLOCKS.slice(0, -1));
        blocks.push(block);
        if (block !== 'skip') fbBlock(st, block, width, s);
      }
    }
    st.conv('conv-bn-relu', 1984, 1);
    st.classifier(1000);
    return { choices: { resolution: 224, blocks }, inputShape: st.inputShape, layers: st.layers };
  },
};
