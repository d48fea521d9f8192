// `litepred demo`: the README's main command. For now: profile a handful of kernels on this
// machine and print the table; later issues grow it into the whole adapt-a-new-device story.
import type { Argv, CommandModule } from 'yargs';
import { exampleConfig, type KernelConfig } from '@litepred/kernels';
import { printResults, profileConfigs } from './profile.js';
import { withRuntimeOptions, type RuntimeArgs } from './runtime-options.js';

const DEMO_KERNELS: KernelConfig[] = [
  { type: 'conv-bn-relu', HW: 112, CIN: 16, COUT: 32, KERNEL_SIZE: 3, STRIDES: 1 },
  { type: 'conv-bn-relu6', HW: 56, CIN: 24, COUT: 144, KERNEL_SIZE: 1, STRIDES: 1 },
  { type: 'dwconv-bn-relu6', HW: 56, CIN: 144, KERNEL_SIZE: 3, STRIDES: 2 },
  { type: 'dwconv-bn-hswish', HW: 28, CIN: 240, KERNEL_SIZE: 5, STRIDES: 1 },
  { type: 'conv-bn', HW: 14, CIN: 384, COUT: 96, KERNEL_SIZE: 1, STRIDES: 1 },
  { type: 'se', HW: 14, CIN: 480 },
  { type: 'add', HW: 28, CIN: 40 },
  { type: 'global-avgpool', HW: 7, CIN: 1280 },
  { type: 'fc', CIN: 1280, COUT: 1000 },
  exampleConfig('mhsa'),
  exampleConfig('layernorm'),
  exampleConfig('gelu'),
];

export const demoCommand: CommandModule<object, RuntimeArgs & { json: boolean }> = {
  command: 'demo',
  describe: 'profile a handful of MobileNet and ViT kernels on this machine and print a table',
  builder: (y: Argv) => withRuntimeOptions(y).option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as unknown as Argv<RuntimeArgs & { json: boolean }>,
  handler: async (args) => {
    console.error(`Profiling ${DEMO_KERNELS.length} kernels on ${args.backend}, ${args.threads} thread(s), optimization ${args['opt-level']}...`);
    const results = await profileConfigs(DEMO_KERNELS, { ...args, 'drift-every': DEMO_KERNELS.length, 'drift-threshold': 0.1 }, true);
    if (args.json) console.log(JSON.stringify(results, null, 2));
    else printResults(results);
  },
};
