// Single Path One-Shot (Guo et al., ECCV'20) on ShuffleNetV2: 20 choice blocks, each a
// ShuffleNetV2 unit with a 3x3, 5x5 or 7x7 depthwise conv, or the Xception-like unit.
import type { LayerRef } from '@litepred/kernels';
import { NetworkStack } from '../stack.js';
import { pick } from '../rng.js';
import type { SearchSpace } from '../space.js';

const STAGES = [
  [64, 4],
  [160, 4],
  [320, 8],
  [640, 4],
] as const; // width, blocks; each stage starts with stride 2
const CHOICES = ['shuffle3', 'shuffle5', 'shuffle7', 'xception'] as const;

/** The main branch: pw-dw-pw, or for Xception three dw-pw pairs (stride on the first dw). */
function branch(st: NetworkStack, choice: string, from: LayerRef, mid: number, cout: number, stride: number): number {
  if (choice === 'xception') {
    st.dwconv('dwconv-bn', 3, stride, from);
    st.conv('conv-bn-relu', mid, 1);
    st.dwconv('dwconv-bn', 3, 1);
    st.conv('conv-bn-relu', mid, 1);
    st.dwconv('dwconv-bn', 3, 1);
    return st.conv('conv-bn-relu', cout, 1);
  }
  const k = Number(choice.slice('shuffle'.length));
  st.conv('conv-bn-relu', mid, 1, 1, { from });
  st.dwconv('dwconv-bn', k, stride);
  return st.conv('conv-bn-relu', cout, 1);
}

export const sposShuffleNetV2: SearchSpace = {
  name: 'spos-shufflenetv2',
  title: 'SPOS ShuffleNetV2',
  source: 'Guo et al.: Single Path One-Shot NAS, ECCV 2020; the ShuffleNetV2 supernet (widths 64-160-320-640), 224x224',
  resolutions: [224],
  sample(r) {
    const st = new NetworkStack([1, 3, 224, 224]);
    st.conv('conv-bn-relu', 16, 3, 2); // no max-pool: the four stages take 112 down to 7
    const blocks: string[] = [];
    for (const [width, count] of STAGES) {
      for (let b = 0; b < count; b++) {
        const choice = pick(r, CHOICES);
        blocks.push(choice);
        const input = st.last;
        const cin = st.channels();
        if (b === 0) {
          // Stride 2: both branches see the whole input; the projection branch keeps cin channels.
          const main = branch(st, choice, input, width / 2, width - cin, 2);
          st.dwconv('dwconv-bn', choice === 'xception' ? 3 : Number(choice.slice(7)), 2, input);
          const proj = st.conv('conv-bn-relu', cin, 1);
          st.concat([proj, main]);
        } else {
          const halves = st.nchw('split');
          const main = branch(st, choice, [halves, 1], width / 2, width / 2, 1);
          st.concat([[halves, 0], main]);
        }
        st.nchw('channelshuffle');
      }
    }
    st.conv('conv-bn-relu', 1024, 1);
    st.classifier(1000);
    return { choices: { resolution: 224, blocks }, inputShape: st.inputShape, layers: st.layers };
  },
};
