// `litepred profile`: measure kernels on this machine, one config or a file of them.
import { appendFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import type { KernelConfig } from '@litepred/kernels';
import { KernelProfiler, measureWithDriftChecks, type Measurement } from '@litepred/profiler';
import { configFromArgs, loadConfigFile } from '../config-files.js';
import { progressBar } from '../progress.js';
import { formatTable } from '../table.js';
import { profilerOptions, withRuntimeOptions, type RuntimeArgs } from './runtime-options.js';

interface ProfileArgs extends RuntimeArgs {
  kernel?: string;
  config?: string;
  set: string[];
  file?: string;
  limit?: number;
  out?: string;
  json: boolean;
  'drift-every': number;
  'drift-threshold': number;
}

export interface ProfileResult {
  config: KernelConfig;
  measurement?: Measurement;
  error?: string;
}

const configText = (c: KernelConfig) =>
  Object.entries(c)
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/** Measures the configs with drift checks; each result is handed to onResult as soon as its window closes. */
export async function profileConfigs(
  configs: KernelConfig[],
  args: RuntimeArgs & { 'drift-every': number; 'drift-threshold': number },
  showProgress: boolean,
  onResult?: (r: ProfileResult) => void,
): Promise<ProfileResult[]> {
  const profiler = await KernelProfiler.create(profilerOptions(args));
  const bar = progressBar(configs.length, 'profiling', showProgress);
  const results: ProfileResult[] = [];
  try {
    for await (const item of measureWithDriftChecks(profiler, configs, {
      every: args['drift-every'],
      threshold: args['drift-threshold'],
    })) {
      const r: ProfileResult = { config: item.config, measurement: item.measurement, error: item.error?.message };
      results.push(r);
      onResult?.(r);
      bar.tick(item.config.type);
    }
  } finally {
    bar.stop();
  }
  return results;
}

export function printResults(results: readonly ProfileResult[]): void {
  console.log(
    formatTable(
      ['kernel', 'config', 'in-network ms', 'hot ms', 'p10', 'p90', '+cold weights', 'runs', 'wall ms', 'note'],
      results.map((r) => {
        const m = r.measurement;
        if (!m) return [r.config.type, configText(r.config), '-', '-', '-', '-', '-', '-', '-', `error: ${r.error}`];
        const note = [m.converged ? '' : 'not converged', m.drift?.flagged ? 'DRIFT' : ''].filter(Boolean).join(', ');
        return [
          m.config.type,
          configText(m.config),
          m.latencyMs,
          m.kernel[m.statistic],
          m.kernel.p10,
          m.kernel.p90,
          m.boundary.coldWeightsMs,
          m.kernel.n,
          m.wall.median,
          note,
        ];
      }),
    ),
  );
  const m = results.find((r) => r.measurement)?.measurement;
  if (m) {
    const rt = m.runtime;
    console.log(
      `\n${rt.backend} ${rt.runtimeVersion} (${rt.executionProvider}), ${rt.threads} thread(s), ` +
        `optimization ${rt.graphOptimizationLevel}; ` +
        `hot = ${m.statistic} of the kernel's own time per run (${m.method}), p10/p90 likewise; in-network = hot + the cold-weight term ` +
        `(weights evicted by the rest of a network); wall = session.run of the standalone model.`,
    );
  }
}

export const profileCommand: CommandModule<object, ProfileArgs> = {
  command: 'profile',
  describe: 'measure kernels on this machine: one config, or a CSV/JSON/JSONL file of configs',
  builder: (y: Argv) =>
    withRuntimeOptions(y)
      .option('kernel', {
        type: 'string',
        describe: 'kernel type (see `litepred kernels list`); the default type for file rows without one',
      })
      .option('config', { type: 'string', describe: 'one config as JSON, e.g. \'{"type":"relu","HW":28,"CIN":8}\'' })
      .option('set', { type: 'string', array: true, default: [] as string[], describe: 'a field, e.g. --set HW=28 --set CIN=8' })
      .option('file', { type: 'string', describe: 'configs: .csv (header row), .json (array) or .jsonl' })
      .option('limit', { type: 'number', describe: 'only the first N configs of the file' })
      .option('out', { type: 'string', describe: 'append each measurement to this JSONL file as it is taken' })
      .option('json', { type: 'boolean', default: false, describe: 'print the measurements as JSON' })
      .option('drift-every', { type: 'number', default: 25, describe: 're-time the reference kernel after this many kernels' })
      .option('drift-threshold', {
        type: 'number',
        default: 0.1,
        describe: 'flag measurements when the reference moved more than this fraction',
      })
      .check((a) => {
        if (!a.file && !a.config && !a.kernel) throw new Error('give --kernel TYPE with --set FIELD=N, --config JSON, or --file FILE');
        return true;
      }) as unknown as Argv<ProfileArgs>,
  handler: async (args) => {
    let configs: KernelConfig[];
    if (args.file) {
      const loaded = loadConfigFile(args.file, args.kernel);
      if (loaded.ignoredColumns.length > 0)
        console.error(`note: ignoring columns that are not kernel fields: ${loaded.ignoredColumns.join(', ')}`);
      configs = args.limit !== undefined ? loaded.configs.slice(0, args.limit) : loaded.configs;
    } else {
      configs = [configFromArgs(args.kernel, args.config, args.set)];
    }
    const out = args.out;
    const results = await profileConfigs(
      configs,
      args,
      configs.length > 1,
      out ? (r) => appendFileSync(out, `${JSON.stringify(r)}\n`) : undefined,
    );
    if (args.json) console.log(JSON.stringify(results, null, 2));
    else printResults(results);
    if (results.some((r) => r.error)) process.exitCode = 1;
  },
};
