// The search spaces, by name.
import { kernelsOf, sampleArchitecture, type SearchSpace } from './space.js';
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

/** The kernel types the spaces' architectures run as (from a few sampled architectures each), sorted. */
export function spaceKernelTypes(spaces: readonly SearchSpace[] = SEARCH_SPACES): string[] {
  return [
    ...new Set(spaces.flatMap((s) => [1, 2, 3, 4, 5].flatMap((seed) => kernelsOf(sampleArchitecture(s, seed)).map((c) => c.type)))),
  ].sort();
}
