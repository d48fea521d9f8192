// The search spaces, by name.
import type { SearchSpace } from './space.js';
import { autoFormer } from './spaces/autoformer.js';
import { fbnet } from './spaces/fbnet.js';
import { nasBench201 } from './spaces/nasbench201.js';
import { ofaMbv3 } from './spaces/ofa-mbv3.js';
import { ofaResNet } from './spaces/ofa-resnet.js';
import { proxylessNas } from './spaces/proxylessnas.js';
import { sposShuffleNetV2 } from './spaces/spos-shufflenetv2.js';

export const SEARCH_SPACES: readonly SearchSpace[] = [proxylessNas, ofaMbv3, fbnet, ofaResNet, sposShuffleNetV2, nasBench201, autoFormer];

export function getSpace(name: string): SearchSpace {
  const space = SEARCH_SPACES.find((s) => s.name === name);
  if (!space) throw new Error(`unknown search space '${name}'; known: ${SEARCH_SPACES.map((s) => s.name).join(', ')}`);
  return space;
}
