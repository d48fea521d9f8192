import { describe, expect, it } from 'vitest';
import { kernelCost, kernelTypes, resolveConfig } from '@litepred/kernels';
import { Mlp, seededRng } from '@litepred/nn';
import {
  binnedKl,
  FAMILIES,
  familyOf,
  fitScales,
  inverseTransformSample,
  loadVaeModel,
  MAX_SAMPLED_FLOPS,
  sampleConfigs,
  scaleRow,
  spaceConfigs,
  trainVae,
  typesOf,
  unscaleAndSnap,
  vaeLoss,
  type FamilyName,
} from '@litepred/sampler';

const FAMILY_NAMES = Object.keys(FAMILIES) as FamilyName[];

describe('VAE loss gradients', () => {
  it('match central finite differences, reparameterisation and KL term included', () => {
    const r = seededRng(5);
    const encoder = Mlp.create([3, 5, 4], ['tanh', 'linear'], r);
    const decoder = Mlp.create([2, 5, 3], ['tanh', 'sigmoid'], r);
    const B = 4;
    const x = Float64Array.from({ length: B * 3 }, () => r());
    const eps = Float64Array.from({ length: B * 2 }, () => r() * 2 - 1);
    const beta = 0.7;
    const { grads } = vaeLoss(encoder, decoder, x, B, eps, beta);
    const params = [...encoder.parameters(), ...decoder.parameters()];
    const h = 1e-6;
    params.forEach((p, i) => {
      for (let k = 0; k < p.length; k++) {
        const keep = p[k]!;
        p[k] = keep + h;
        const up = vaeLoss(encoder, decoder, x, B, eps, beta).loss;
        p[k] = keep - h;
        const down = vaeLoss(encoder, decoder, x, B, eps, beta).loss;
        p[k] = keep;
        expect(grads[i]![k]!).toBeCloseTo((up - down) / (2 * h), 5);
      }
    });
  });

  it('training is reproducible from its seed', () => {
    const data = {
      family: 'fc' as const,
      rows: [
        [64, 1000],
        [128, 10],
        [1024, 1000],
      ],
      weights: [1, 2, 3],
    };
    const scales = fitScales(FAMILIES.fc.features, data);
    const a = trainVae(scales, data, { steps: 30, batch: 8, seed: 9 });
    const b = trainVae(scales, data, { steps: 30, batch: 8, seed: 9 });
    expect(a.decoder.toJSON()).toEqual(b.decoder.toJSON());
  });
});

describe('scaling', () => {
  it('snaps HW to the values used with the sampled stride', () => {
    const data = {
      family: 'dwconv' as const,
      rows: [
        [112, 32, 3, 2],
        [56, 32, 3, 1],
        [28, 32, 3, 1],
        [14, 32, 3, 2],
      ],
      weights: [1, 1, 1, 1],
    };
    const scales = fitScales(FAMILIES.dwconv.features, data);
    const x = scaleRow(scales, [28, 32, 3, 2]); // HW 28 is only used with stride 1
    expect(unscaleAndSnap(scales, x)[0]).toBe(14);
  });

  it('maps training rows to [0, 1] and snaps them back unchanged', () => {
    const data = spaceConfigs(5, 1).get('conv')!;
    const scales = fitScales(FAMILIES.conv.features, data);
    for (const row of data.rows.slice(0, 50)) {
      const x = scaleRow(scales, row);
      for (const v of x) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(unscaleAndSnap(scales, x)).toEqual(row);
    }
  });
});

describe('families', () => {
  it('cover every kernel type', () => {
    expect(FAMILY_NAMES.flatMap(typesOf).sort()).toEqual([...kernelTypes()].sort());
    expect(familyOf('dwconv-bn-relu').name).toBe('dwconv');
    expect(familyOf('maxpool').name).toBe('pooling');
    expect(familyOf('mhsa').name).toBe('transformer');
    expect(familyOf('concat').name).toBe('nchw');
  });

  it('ship a trained decoder for each family', () => {
    for (const family of FAMILY_NAMES) {
      const model = loadVaeModel(family);
      expect(model.scales.map((s) => s.name)).toEqual(FAMILIES[family].features.map((f) => f.name));
      expect(Mlp.fromJSON(model.decoder).inputs).toBe(model.latent);
    }
  });
});

describe('sampleConfigs', () => {
  const cases = kernelTypes().flatMap((type) =>
    (['vae', 'uniform', 'prior', 'broad'] as const)
      .filter((sampler) => !(sampler === 'prior' && familyOf(type).name === 'transformer'))
      .map((sampler) => [type, sampler] as const),
  );

  it.each(cases)('%s from the %s sampler: n valid configs, the same for the same seed', (type, sampler) => {
    const { configs } = sampleConfigs(type, 40, { sampler, seed: 4 });
    expect(configs).toHaveLength(40);
    for (const c of configs) {
      expect(c.type).toBe(type);
      expect(() => resolveConfig(c)).not.toThrow();
    }
    expect(sampleConfigs(type, 40, { sampler, seed: 4 }).configs).toEqual(configs);
    expect(sampleConfigs(type, 40, { sampler, seed: 5 }).configs).not.toEqual(configs);
  });

  it('snaps VAE samples to the values the spaces use (odd kernels, channel multiples, HW the spaces use with that stride)', () => {
    const { scales } = loadVaeModel('conv');
    const support = Object.fromEntries(scales.map((s) => [s.name, new Set(s.support)]));
    const hwByStride = scales.find((s) => s.name === 'HW')!.supportByStride!;
    expect(new Set(hwByStride['2'])).not.toEqual(new Set(hwByStride['1']));
    for (const c of sampleConfigs('conv-bn-relu', 300, { sampler: 'vae', seed: 1 }).configs) {
      expect(c.KERNEL_SIZE! % 2).toBe(1);
      for (const f of ['HW', 'CIN', 'COUT', 'KERNEL_SIZE', 'STRIDES'] as const) expect(support[f]!.has(c[f]!)).toBe(true);
      expect(hwByStride[String(c.STRIDES)]).toContain(c.HW);
    }
  });

  it('draws what real networks add to the family features: rectangular inputs, dilation, broadcast operands, SE widths', () => {
    const convs = sampleConfigs('conv-bn-relu', 400, { sampler: 'vae', seed: 3 }).configs;
    const rectangular = convs.filter((c) => c.W !== undefined).length / convs.length;
    expect(rectangular).toBeGreaterThan(0.15);
    expect(rectangular).toBeLessThan(0.35);
    expect(convs.some((c) => c.DILATION === 2)).toBe(true);
    const muls = sampleConfigs('mul', 200, { sampler: 'vae', seed: 3 }).configs;
    expect(new Set(muls.map((c) => c.BCAST ?? 0))).toEqual(new Set([0, 1, 2]));
    expect(sampleConfigs('se', 100, { sampler: 'vae', seed: 3 }).configs.some((c) => c.CMID !== undefined)).toBe(true);
    for (const c of sampleConfigs('bmm', 50, { sampler: 'vae', seed: 3 }).configs) expect(c.HEADS).toBeGreaterThan(0);
    const square = sampleConfigs('conv-bn-relu', 200, { sampler: 'vae', seed: 3, realShapes: false }).configs;
    expect(square.every((c) => c.W === undefined && c.DILATION === undefined)).toBe(true);
  });

  it(
    "broad: token kernels over the token counts deployed networks have, not only the search spaces' 197, and nothing of " +
      'over MAX_SAMPLED_FLOPS',
    () => {
      const vae = sampleConfigs('matmul', 200, { sampler: 'vae', seed: 2 }).configs.map((c) => c.L!);
      const broad = sampleConfigs('matmul', 200, { sampler: 'broad', seed: 2 }).configs.map((c) => c.L!);
      expect(Math.max(...vae) - Math.min(...vae)).toBeLessThan(10);
      expect(Math.min(...broad)).toBeLessThan(16);
      expect(Math.max(...broad)).toBeGreaterThan(1024);
      for (const c of sampleConfigs('conv-bn-relu', 300, { sampler: 'broad', seed: 2 }).configs)
        expect(kernelCost(c).flops).toBeLessThanOrEqual(MAX_SAMPLED_FLOPS);
    },
  );

  it('says clearly what it cannot do', () => {
    expect(() => sampleConfigs('mhsa', 5, { sampler: 'prior', seed: 1 })).toThrow(/nn-Meter's prior has no transformer kernels/);
    expect(() => sampleConfigs('conv-bn-gelu', 5, { sampler: 'vae', seed: 1 })).toThrow(/unknown kernel type/);
    expect(() => sampleConfigs('fc', 0, { sampler: 'vae', seed: 1 })).toThrow(/positive integer/);
    expect(() => sampleConfigs('fc', 5, { sampler: 'vae', seed: 1, modelsDir: new URL('file:///nonexistent/') })).toThrow(
      /no trained VAE for the fc family/,
    );
  });

  it('the shipped VAE is closer to held-out search-space configs than uniform and prior sampling', () => {
    const heldOut = spaceConfigs(30, 2);
    for (const [family, type] of [
      ['conv', 'conv-bn-relu'],
      ['dwconv', 'dwconv-bn-relu'],
    ] as const) {
      const kl = (sampler: 'vae' | 'prior' | 'uniform') =>
        binnedKl(
          FAMILIES[family].features,
          heldOut.get(family)!,
          sampleConfigs(type, 2000, { sampler, seed: 8 }).configs.map((c) => FAMILIES[family].row(resolveConfig(c))),
        ).joint;
      const vae = kl('vae');
      expect(vae).toBeLessThan(kl('prior'));
      expect(vae).toBeLessThan(kl('uniform'));
    }
  });
});

describe("nn-Meter's prior and the divergence", () => {
  it('inverse-transform samples stay in the data range and follow its histogram', () => {
    const data = [...new Array(900).fill(10), ...new Array(100).fill(500)];
    const s = inverseTransformSample(data, 10_000, seededRng(1));
    expect(Math.min(...s)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...s)).toBeLessThanOrEqual(500);
    expect(s.filter((v) => v < 100).length / s.length).toBeCloseTo(0.9, 1);
  });

  it('binned KL is 0 for the same distribution and large when samples miss it', () => {
    const features = FAMILIES.fc.features;
    const ref = {
      rows: [
        [64, 10],
        [128, 1000],
      ],
      weights: [1, 3],
    };
    const same = binnedKl(features, ref, [
      [64, 10],
      [128, 1000],
      [128, 1000],
      [128, 1000],
    ]);
    expect(same.joint).toBeCloseTo(0, 1);
    expect(same.uncovered).toBe(0);
    const far = binnedKl(features, ref, [
      [4096, 4096],
      [2048, 2048],
    ]);
    expect(far.uncovered).toBe(1);
    expect(far.joint).toBeGreaterThan(same.joint + 0.5);
  });
});
