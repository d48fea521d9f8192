// AutoFormer-T (Chen et al., ICCV'21): a ViT whose embedding width {192,216,240}, depth
// {12,13,14}, and per-layer MLP ratio {3.5,4} and heads {3,4} are searched; 16x16 patches of a
// 224x224 image plus a class token, 197 tokens.
import { NetworkStack } from '../stack.js';
import { pick } from '../rng.js';
import type { SearchSpace } from '../space.js';

export const autoFormer: SearchSpace = {
  name: 'autoformer',
  title: 'AutoFormer-T (vision transformer)',
  source: 'Chen et al.: AutoFormer, ICCV 2021, the tiny space; attention width = embedding width (AutoFormer uses 64 per head for q, k, v)',
  resolutions: [224],
  sample(r) {
    const embed = pick(r, [192, 216, 240]);
    const depth = pick(r, [12, 13, 14]);
    const st = new NetworkStack([1, 3, 224, 224]);
    // The 16x16 stride-16 patch convolution, written as the linear layer over patches it is.
    st.glue('patchify', { patch: 16 });
    st.token('matmul', { COUT: embed });
    st.glue('cls-token');
    const layers: string[] = [];
    for (let i = 0; i < depth; i++) {
      const [heads, ratio] = [pick(r, [3, 4]), pick(r, [3.5, 4])];
      layers.push(`h${heads}_r${ratio}`);
      const input = st.last;
      st.token('layernorm');
      const attended = st.tokenAdd(input, st.token('mhsa', { HEADS: heads }));
      st.token('layernorm');
      st.token('matmul', { COUT: Math.round(embed * ratio) });
      st.token('gelu');
      st.tokenAdd(attended, st.token('matmul', { COUT: embed }));
    }
    st.token('layernorm');
    st.glue('first-token');
    st.fc('fc', 1000);
    return { choices: { resolution: 224, embed, depth, layers }, inputShape: st.inputShape, layers: st.layers };
  },
};
