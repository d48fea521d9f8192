// The fields a family's feature vector (what the VAE and the prior model) leaves out, drawn per
// config: the width of a rectangular input, a dilation, groups, how a binary op's second operand
// broadcasts, an SE block's squeeze width, a concat's third and fourth inputs, attention's head
// count, and which of attention's two products a bmm is. The shares are what the real-architecture corpus and common exporters show:
// most inputs square, a quarter not; dilation rare; broadcast operands common (SE scales, layer
// scales, biases).
import { getKernelSpec, type ConfigField } from '@litepred/kernels';
import { weightedSampler, type Rng } from '@litepred/nn';

/** Aspect ratios (W / H) of the rectangular inputs drawn: 4:3 and 16:9 both ways, and 2:1. */
export const ASPECTS = [4 / 3, 3 / 4, 16 / 9, 9 / 16, 2, 1 / 2] as const;
/** Share of configs of a type that takes W given a rectangular input. */
export const RECTANGULAR_SHARE = 0.25;
/** Share of convolutions given dilation 2. */
export const DILATED_SHARE = 0.05;
/** Shares of BCAST 0 (same shape), 1 (per channel) and 2 (scalar). */
export const BROADCAST_WEIGHTS = [0.5, 0.35, 0.15] as const;
/** Share of convolutions drawn grouped (where a group width divides their channels). */
export const GROUPED_SHARE = 0.15;
const GROUP_WIDTHS = [8, 16, 24, 32, 48, 64] as const;
const BMM_HEADS = [1, 2, 3, 4, 6, 8, 12, 16] as const;
/**
 * SE squeeze widths as a fraction of CIN (timm's EfficientNets squeeze the block's input: CIN/24 of the expanded width); undefined:
 * nn-Meter's rule.
 */
const SE_RATIOS = [undefined, 1 / 4, 1 / 8, 1 / 16, 1 / 24] as const;

export interface HeadsTable {
  values: number[];
  weights: number[];
}

/** HEADS by training frequency among the head counts that divide CIN (1 if none does). */
function heads(cin: number, table: HeadsTable | undefined, r: Rng): number {
  if (!table) return 1;
  const fits = table.values.map((h, i) => (cin % h === 0 ? table.weights[i]! : 0));
  return fits.some((w) => w > 0) ? table.values[weightedSampler(fits, r)()]! : 1;
}

/**
 * The extra fields for a config of `type` whose family fields are `fields`. `real` false gives
 * only what a type needs (HEADS), as the spaces' own configs are: square, undilated.
 */
export function drawExtras(
  type: string,
  fields: Partial<Record<ConfigField, number>>,
  r: Rng,
  headsTable?: HeadsTable,
  real = true,
): Partial<Record<ConfigField, number>> {
  const spec = getKernelSpec(type);
  const optional = spec.optional ?? {};
  const out: Partial<Record<ConfigField, number>> = {};
  const cin = fields.CIN ?? 1;
  if (type === 'mhsa') out.HEADS = heads(cin, headsTable, r);
  if (type === 'bmm') {
    // q k^T ([L, d] by [d, L]) or scores v ([L, L] by [L, d]), d the head width; any head count
    // (attention blocks of deployed networks have 1 to 16).
    const h = real ? BMM_HEADS[Math.floor(r() * BMM_HEADS.length)]! : heads(cin, headsTable, r);
    const [l, d] = [fields.L ?? 1, Math.max(1, Math.round(cin / h))];
    Object.assign(out, { HEADS: h }, r() < 0.5 ? { CIN: d, COUT: l } : { CIN: l, COUT: d });
  }
  if (!real) return out;
  if ('W' in optional && fields.HW && r() < RECTANGULAR_SHARE)
    out.W = Math.max(1, Math.round(fields.HW * ASPECTS[Math.floor(r() * ASPECTS.length)]!));
  if ('DILATION' in optional && r() < DILATED_SHARE) out.DILATION = 2;
  if ('GROUPS' in optional && type !== 'channelshuffle' && r() < GROUPED_SHARE) {
    // A group width as RegNet and ResNeXt use them; kept where it divides both channel counts.
    const width = GROUP_WIDTHS[Math.floor(r() * GROUP_WIDTHS.length)]!;
    const groups = cin / width;
    if (Number.isInteger(groups) && groups > 1 && (fields.COUT ?? cin) % groups === 0) out.GROUPS = groups;
  }
  if (type === 'concat' && fields.CIN1 && fields.CIN2 && r() < 0.4) {
    // Three or four inputs (MixNet's and Inception-style branches), the same channels in all.
    const total = fields.CIN1 + fields.CIN2;
    const parts = r() < 0.6 ? 3 : 4;
    const each = Math.max(1, Math.round(total / parts));
    Object.assign(out, { CIN1: each, CIN2: each, CIN3: each, ...(parts === 4 ? { CIN4: each } : {}) });
  }
  if ('BCAST' in optional) out.BCAST = weightedSampler([...BROADCAST_WEIGHTS], r)();
  if ('CMID' in optional) {
    const ratio = SE_RATIOS[Math.floor(r() * SE_RATIOS.length)];
    if (ratio) out.CMID = Math.max(8, Math.round((cin * ratio) / 8) * 8);
  }
  return out;
}
