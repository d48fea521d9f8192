// `litepred kernels list`: the kernel types, their fields and an example config.
import type { CommandModule } from 'yargs';
import { exampleConfig, featureNames, getKernelSpec, kernelCost, kernelTypes } from '@litepred/kernels';
import { formatTable } from '../table.js';
import { commandGroup } from './group.js';

const kernelsList: CommandModule = {
  command: 'list',
  describe: 'every kernel type with its fields, features and an example config',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  handler: (argv) => {
    const rows = kernelTypes().map((type) => {
      const spec = getKernelSpec(type);
      const example = exampleConfig(type);
      return {
        type,
        family: spec.family,
        summary: spec.summary,
        fields: [...spec.required],
        optional: spec.optional ?? {},
        features: featureNames(type),
        example,
        exampleCost: kernelCost(example),
      };
    });
    if (argv.json) {
      console.log(JSON.stringify(rows, null, 2));
      return;
    }
    console.log(
      formatTable(
        ['type', 'family', 'fields', 'summary'],
        rows.map((r) => [r.type, r.family, [...r.fields, ...Object.keys(r.optional).map((f) => `[${f}]`)].join(' '), r.summary]),
      ),
    );
    console.log(`\n${rows.length} kernel types. Features: the fields, then FLOPS and PARAMS in millions.`);
  },
};

export const kernelsCommand = commandGroup('kernels', 'the kernel library: list', [kernelsList]);
