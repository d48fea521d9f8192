// What bench:collect measures on a runtime configuration: every kernel type of the kernel library
// as that runtime runs it (where it folds batch norm into convs, a conv with and without one is one
// kernel: only the -bn types), 1,000 VAE-sampled configs of each of the 12 types that carry the
// most FLOPs in the seven search spaces and 300 of every other type, drawn with the shapes real
// networks add (rectangular inputs, dilation, broadcast operands). The same configs on every
// runtime configuration (seeds by the type's name), so they can be compared kernel by kernel.
import { foldedConvType, kernelCost, kernelTypes, resolveConfig, type KernelConfig } from '@litepred/kernels';
import { seededRng } from '@litepred/nn';
import type { RuntimeOptions } from '@litepred/profiler';
import { sampleConfigs } from '@litepred/sampler';
import { kernelsOf, sampleArchitecture, SEARCH_SPACES } from '@litepred/spaces';

/**
 * Half of a type's configs from LitePred's VAE (the search spaces' distribution: what NAS
 * candidates are made of), half from the broad sampler (the ranges deployed networks use: the
 * spaces' transformer kernels, for one, all have 197 tokens).
 */
export const VAE_SHARE = 0.5;
export const MAJOR_TYPES = 12;
export const MAJOR_COUNT = 1000;
export const MINOR_COUNT = 300;
/** Architectures per search space the FLOPs ranking is taken over. */
const RANKING_ARCHITECTURES = 20;

export const foldsBatchNorm = (runtime: Pick<RuntimeOptions, 'graphOptimizationLevel'>) => runtime.graphOptimizationLevel !== 'disabled';

/** The kernel types a runtime configuration runs as distinct kernels. */
export function collectionTypes(runtime: Pick<RuntimeOptions, 'graphOptimizationLevel'>): string[] {
  return kernelTypes().filter((t) => !foldsBatchNorm(runtime) || foldedConvType(t) === t);
}

/** FLOPs per kernel type (conv types folded) over sampled architectures of the seven search spaces, most first. */
export function spaceFlopsByType(): [string, number][] {
  const flops = new Map<string, number>();
  for (const space of SEARCH_SPACES) {
    for (let seed = 1; seed <= RANKING_ARCHITECTURES; seed++) {
      for (const c of kernelsOf(sampleArchitecture(space, seed))) {
        const type = foldedConvType(c.type);
        flops.set(type, (flops.get(type) ?? 0) + kernelCost(c).flops);
      }
    }
  }
  return [...flops].sort((a, b) => b[1] - a[1]);
}

/** Configs to measure per type on a runtime configuration: MAJOR_COUNT for the top types by space FLOPs, MINOR_COUNT for the rest. */
export function collectionCounts(runtime: Pick<RuntimeOptions, 'graphOptimizationLevel'>): Map<string, number> {
  const major = new Set(
    spaceFlopsByType()
      .slice(0, MAJOR_TYPES)
      .map(([t]) => t),
  );
  // A major type's unfolded twin (conv-relu where batch norm is not folded) is as major.
  return new Map(collectionTypes(runtime).map((t) => [t, major.has(foldedConvType(t)) ? MAJOR_COUNT : MINOR_COUNT]));
}

/** A stable seed per kernel type: the same configs on every runtime configuration and in every run. */
function seedOf(type: string): number {
  let h = 2166136261;
  for (const ch of type) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return 10_000 + (h % 1_000_000);
}

/** Up to `count` configs of `type` none of which is in `seen` (which they join), drawing again with new seeds while duplicates fall out. */
function distinct(type: string, count: number, sampler: 'vae' | 'broad', seed: number, seen: Set<string>): KernelConfig[] {
  const out: KernelConfig[] = [];
  for (let round = 0; out.length < count && round < 20; round++) {
    for (const c of sampleConfigs(type, Math.ceil((count - out.length) * 1.3) + 5, { sampler, seed: seed + 7919 * round }).configs) {
      const key = JSON.stringify(c);
      if (out.length < count && !seen.has(key)) {
        seen.add(key);
        out.push(c);
      }
    }
  }
  return out;
}

/**
 * The kernel configs to measure, keyed as the pool stores them, interleaved across types (a run cut
 * short has some of every type); `scale` shrinks every count (a quick run).
 */
/**
 * Kernel types added to the library after the pool's collection began, in the order they came:
 * planned after every other type, so that the plan's positions (and the retests they pick, every
 * 40th) stay what they were for what is already measured, and a resumed collection only adds.
 */
export const LATE_TYPES = ['bn-tokens'];

/**
 * Grouped convolutions, added after the late types: the samplers draw a conv grouped only where a
 * group width happens to divide its channels (81 of node-t1-all's 5,200 conv kernels), and ORT runs
 * a grouped conv quite unlike a plain one (it cannot block channels for narrow groups), so the
 * networks built of them (RegNet, ResNeXt) were predicted from almost nothing. GROUPED_COUNT configs
 * of each of these conv types (by their folded name), with a RegNet/ResNeXt group width.
 */
export const GROUPED_TYPES = ['conv-bn-relu', 'conv-bn'];
export const GROUPED_COUNT = 200;
const GROUP_WIDTHS = [8, 16, 24, 32, 48, 64];

export function collectionPlan(
  runtime: Pick<RuntimeOptions, 'graphOptimizationLevel'>,
  scale = 1,
): { key: string; config: KernelConfig }[] {
  const counts = [...collectionCounts(runtime)];
  const early = counts.filter(([type]) => !LATE_TYPES.includes(type));
  const late = LATE_TYPES.flatMap((type) => counts.filter(([t]) => t === type));
  const plan = [...interleaved(early, scale), ...interleaved(late, scale)];
  const seen = new Set(plan.map((k) => k.key));
  const grouped = counts
    .filter(([t]) => GROUPED_TYPES.includes(foldedConvType(t)))
    .map(([type]) => groupedConfigs(type, Math.max(2, Math.round(GROUPED_COUNT * scale)), seen));
  return [...plan, ...roundRobin(grouped)];
}

/** `count` broad-sampled configs of a conv type made grouped (a group width that divides both channel counts), none in `seen`. */
function groupedConfigs(type: string, count: number, seen: Set<string>): KernelConfig[] {
  const r = seededRng(seedOf(type) + 3);
  const out: KernelConfig[] = [];
  for (let round = 0; out.length < count && round < 40; round++) {
    for (const c of sampleConfigs(type, 4 * count, { sampler: 'broad', seed: seedOf(type) + 104_729 * (round + 1) }).configs) {
      const cin = c.CIN ?? 0;
      const widths = GROUP_WIDTHS.filter((w) => cin % w === 0 && cin / w > 1 && (c.COUT ?? cin) % (cin / w) === 0);
      if (widths.length === 0) continue;
      const config = { ...c, GROUPS: cin / widths[Math.floor(r() * widths.length)]! } as KernelConfig;
      try {
        resolveConfig(config);
      } catch {
        continue; // a shape the kernel library refuses grouped
      }
      const key = JSON.stringify(config);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(config);
      if (out.length === count) break;
    }
  }
  return out;
}

function roundRobin(lists: readonly KernelConfig[][]): { key: string; config: KernelConfig }[] {
  const out: { key: string; config: KernelConfig }[] = [];
  for (let i = 0; i < Math.max(0, ...lists.map((l) => l.length)); i++) {
    for (const l of lists) if (i < l.length) out.push({ key: JSON.stringify(l[i]), config: l[i]! });
  }
  return out;
}

/** Round-robin over the types' configs (VAE and broad alternating within a type). */
function interleaved(counts: [string, number][], scale: number): { key: string; config: KernelConfig }[] {
  const byType = counts.map(([type, n]) => {
    const count = Math.max(2, Math.round(n * scale));
    const seen = new Set<string>();
    const vae = distinct(type, Math.ceil(count * VAE_SHARE), 'vae', seedOf(type), seen);
    // The broad sampler makes up what the VAE could not draw distinct (its values are snapped to the spaces' own).
    const broad = distinct(type, count - vae.length, 'broad', seedOf(type) + 1, seen);
    return Array.from({ length: Math.max(vae.length, broad.length) }, (_, i) => [vae[i], broad[i]])
      .flat()
      .filter((c): c is KernelConfig => c !== undefined);
  });
  const plan: { key: string; config: KernelConfig }[] = [];
  for (let i = 0; plan.length < byType.reduce((s, c) => s + c.length, 0); i++) {
    for (const configs of byType) if (i < configs.length) plan.push({ key: JSON.stringify(configs[i]), config: configs[i]! });
  }
  return plan;
}
