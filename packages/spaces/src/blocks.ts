// Blocks more than one network is made of.
import type { NetworkStack } from './stack.js';
import { makeDivisible } from './rng.js';

/** MobileNetV2 block: 1x1 expand (if e > 1), k x k depthwise, 1x1 project, residual when shapes allow. */
export function mbConv(
  st: NetworkStack,
  cout: number,
  k: number,
  stride: number,
  expand: number,
  acts: { expand: string; dw: string } = { expand: 'conv-bn-relu6', dw: 'dwconv-bn-relu6' },
  se = false,
  round = makeDivisible,
): number {
  const input = st.last;
  const cin = st.channels();
  if (expand > 1) st.conv(acts.expand, round(cin * expand), 1);
  st.dwconv(acts.dw, k, stride);
  if (se) st.nchw('se');
  const out = st.conv('conv-bn', cout, 1);
  return stride === 1 && cin === cout ? st.add('add', input, out) : out;
}
