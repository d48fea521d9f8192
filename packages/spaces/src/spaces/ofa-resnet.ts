// Once-for-All ResNet50 (Cai et al., ICLR'20): bottleneck stages of depth base+{0,1,2}, width
// multiplier {0.65,0.8,1.0} per stage, bottleneck expand {0.2,0.25,0.35} per block,
// resolution 128..224.
import { NetworkStack } from '../stack.js';
import { makeDivisible, pick, range } from '../rng.js';
import type { SearchSpace } from '../space.js';

const STAGES = [
  [256, 2, 1],
  [512, 2, 2],
  [1024, 4, 2],
  [2048, 2, 2],
] as const; // width, base depth, stride

export const ofaResNet: SearchSpace = {
  name: 'ofa-resnet',
  title: 'Once-for-All ResNet50',
  source:
    'Cai et al.: Once-for-All, ICLR 2020 (OFA-ResNet50); resolutions in steps of 16 here; the downsampling shortcut is a ' +
    'strided 1x1 conv (ResNet-B), not avg-pool + conv',
  resolutions: range(128, 224, 16),
  sample(r) {
    const hw = pick(r, this.resolutions);
    const st = new NetworkStack([1, 3, hw, hw]);
    const stemWidth = pick(r, [0.65, 0.8, 1.0]);
    st.conv('conv-bn-relu', makeDivisible(32 * stemWidth), 3, 2);
    st.conv('conv-bn-relu', makeDivisible(32 * stemWidth), 3, 1);
    st.conv('conv-bn-relu', makeDivisible(64 * stemWidth), 3, 1);
    st.pool('maxpool', 3, 2);
    const choices = { resolution: hw, stemWidth, widths: [] as number[], depths: [] as number[], expands: [] as number[] };
    for (const [base, baseDepth, stride] of STAGES) {
      const width = pick(r, [0.65, 0.8, 1.0]);
      const depth = baseDepth + pick(r, [0, 1, 2]);
      choices.widths.push(width);
      choices.depths.push(depth);
      const cout = makeDivisible(base * width);
      for (let b = 0; b < depth; b++) {
        const s = b === 0 ? stride : 1;
        const expand = pick(r, [0.2, 0.25, 0.35]);
        choices.expands.push(expand);
        const mid = makeDivisible(cout * expand);
        const input = st.last;
        st.conv('conv-bn-relu', mid, 1);
        st.conv('conv-bn-relu', mid, 3, s);
        const main = st.conv('conv-bn', cout, 1);
        const shortcut = s === 1 && st.channels(input) === cout ? input : st.conv('conv-bn', cout, 1, s, { from: input });
        st.add('add-relu', main, shortcut);
      }
    }
    st.classifier(1000);
    return { choices, inputShape: st.inputShape, layers: st.layers };
  },
};
