// `litepred sample`: kernel configs from the VAE (LitePred), nn-Meter's prior, or uniform.
import { writeFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { CONFIG_FIELDS, getKernelSpec } from '@litepred/kernels';
import { familyOf, SAMPLER_KINDS, sampleConfigs, type SamplerKind } from '@litepred/sampler';
import { formatConfigs } from '../config-files.js';
import { formatTable } from '../table.js';

interface SampleArgs {
  kernel: string;
  n: number;
  seed: number;
  sampler: SamplerKind;
  out?: string;
  json: boolean;
}

export const sampleCommand: CommandModule<object, SampleArgs> = {
  command: 'sample',
  describe: "sample kernel configs that look like the NAS search spaces (VAE), or from nn-Meter's prior, or uniform",
  builder: (y) =>
    y
      .option('kernel', { type: 'string', demandOption: true, describe: 'kernel type (see litepred kernels list)' })
      .option('n', { type: 'number', default: 100, describe: 'number of configs' })
      .option('seed', { type: 'number', default: 1, describe: 'random seed: the same seed gives the same configs' })
      .option('sampler', {
        choices: SAMPLER_KINDS,
        default: 'vae' as SamplerKind,
        describe: 'vae (LitePred: the search spaces), prior (nn-Meter), uniform, broad (the ranges deployed networks use)',
      })
      .option('out', { type: 'string', describe: 'write a .csv or .jsonl file (litepred profile and campaign create read both)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .example('$0 sample --kernel conv-bn-relu --n 500 --out conv.csv', '500 VAE-sampled conv-bn-relu configs'),
  handler: async (a) => {
    getKernelSpec(a.kernel); // an unknown type fails here with the list of known ones
    if (!Number.isInteger(a.seed)) throw new Error(`--seed must be an integer (got ${a.seed})`);
    const { configs, rejected } = sampleConfigs(a.kernel, a.n, { sampler: a.sampler, seed: a.seed });
    if (a.out) writeFileSync(a.out, formatConfigs(a.out, configs));
    const note =
      `${configs.length} ${a.kernel} configs from the ${a.sampler} sampler (${familyOf(a.kernel).name} ` +
      `family, seed ${a.seed}); ${rejected} candidates rejected by validation`;
    if (a.json) return console.log(JSON.stringify(a.out ? { out: a.out, count: configs.length, rejected } : configs));
    if (a.out) return console.log(`${note}; written to ${a.out}`);
    // Optional fields (W, DILATION, BCAST, ...) appear in some configs only: a column for each field any has, '-' where one leaves it out.
    const present = new Set(configs.flatMap((c) => Object.keys(c)));
    const fields = CONFIG_FIELDS.filter((f) => present.has(f));
    console.log(
      formatTable(
        fields,
        configs.map((c) => fields.map((f) => c[f] ?? '-')),
      ),
    );
    console.log(`\n${note}`);
  },
};
