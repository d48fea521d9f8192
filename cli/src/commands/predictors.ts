// Predictor commands: adapt a device, list and pull predictors, predict a model's latency.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { Adaptation } from '@litepred/coordinator';
import { stripWeights } from '@litepred/predictor';
import type { ResponseOf } from '@litepred/protocol';
import { Client, withClientOptions, type ClientArgs } from '../client.js';
import { formatTable } from '../table.js';
import { parseShape } from './decompose.js';
import { commandGroup } from './group.js';

type Args<T> = T & ClientArgs & { json: boolean };
const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(1)}%` : '-');

/** One line of an adaptation's progress, for people. */
export function describeAdaptation(a: Adaptation): string {
  const p = a.progress as {
    phase?: string;
    measured?: number;
    budget?: number;
    source?: string;
    why?: string;
    heldOutWithin10?: number;
    heldOutJudged?: number;
    round?: number;
    waiting?: string | null;
  };
  if (a.state === 'failed') return `${a.id}: failed: ${a.error}`;
  if (a.state === 'done') {
    const r = a.result as {
      source: string;
      measured: number;
      heldOut: { within10: number; n: number };
      stoppedBecause: string;
      composition: { models: number; heldOut?: { within10: number; n: number } | null } | null;
    };
    const models = r.composition?.heldOut
      ? `; composition from ${r.composition.models} whole models: ${pct(r.composition.heldOut.within10)} ` +
        `of ${r.composition.heldOut.n} held-out models within ±10%`
      : '';
    return (
      `${a.id}: done. Source ${r.source}; ${r.measured} kernels measured; ${pct(r.heldOut.within10)} ` +
      `of ${r.heldOut.n} held-out kernels within ±10% ` +
      `(stopped: ${r.stoppedBecause === 'target' ? 'target reached' : 'budget spent'})${models}`
    );
  }
  const parts = [`${a.id}: ${p.phase ?? a.state}`, `${p.measured ?? 0}/${a.options.budget} kernels`];
  if (p.phase === 'models') parts.push(`measuring ${a.options.models} whole models end to end for the composition`);
  if (p.heldOutWithin10 !== undefined)
    parts.push(`held-out within ±10%: ${pct(p.heldOutWithin10)} (target ${pct(a.options.target)}, round ${p.round})`);
  if (p.why) parts.push(p.why);
  if (p.waiting) parts.push(p.waiting);
  return parts.join(' | ');
}

export const adaptCommand: CommandModule<
  object,
  Args<{ device: string; budget?: number; target?: number; seed?: number; models?: number; detach: boolean }>
> = {
  command: 'adapt',
  describe: 'make predictors for a device from the pool and a small budget of its own measurements',
  builder: (y: Argv) =>
    withClientOptions(y)
      .option('device', { type: 'string', demandOption: true, describe: 'the enrolled device (litepred device list)' })
      .option('budget', { type: 'number', describe: 'kernel measurements allowed, probe and held-out included (default 300)' })
      .option('target', { type: 'number', describe: 'share of held-out kernels within ±10% that ends it early (default 0.95)' })
      .option('seed', { type: 'number', describe: 'sampler seed (default 1)' })
      .option('models', {
        type: 'number',
        describe: 'whole models to measure end to end afterwards, for the composition (default 28; 0: none)',
      })
      .option('detach', { type: 'boolean', default: false, describe: 'start it and return; follow with litepred adaptation status ID' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON (the finished adaptation)' }) as unknown as Argv<
      Args<{ device: string; detach: boolean }>
    >,
  handler: async (a) => {
    const client = Client.from(a);
    let adaptation = await client.call('adapt', {
      params: { id: a.device },
      body: { budget: a.budget, target: a.target, seed: a.seed, models: a.models },
    });
    if (!a.detach) adaptation = await follow(client, adaptation.id, !a.json);
    if (a.json) console.log(JSON.stringify(adaptation, null, 2));
    else if (a.detach) console.log(`${adaptation.id} started. Follow it: litepred adaptation status ${adaptation.id} --watch`);
    else console.log(`${describeAdaptation(adaptation)}\nPull it: litepred predictor pull --device ${a.device} --out predictors/`);
    if (adaptation.state === 'failed') process.exitCode = 1;
  },
};

/** Polls an adaptation until it ends, printing a line to stderr whenever its progress changes. */
export async function follow(client: Client, id: string, print: boolean): Promise<Adaptation> {
  let last = '';
  for (;;) {
    const a = await client.call('getAdaptation', { params: { id } });
    const line = describeAdaptation(a);
    if (print && line !== last && a.state === 'running') console.error(line);
    last = line;
    if (a.state !== 'running') return a;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const adaptationList: CommandModule<object, Args<{ device?: string }>> = {
  command: 'list',
  describe: 'adaptations: device, state, budget, measured, held-out accuracy, source',
  builder: (y: Argv) =>
    withClientOptions(y)
      .option('device', { type: 'string', describe: 'only this device' })
      .option('json', { type: 'boolean', default: false }) as unknown as Argv<Args<{ device?: string }>>,
  handler: async (a) => {
    const list = await Client.from(a).call('listAdaptations', { query: { device: a.device } });
    if (a.json) return console.log(JSON.stringify(list, null, 2));
    console.log(
      formatTable(
        ['adaptation', 'device', 'state', 'budget', 'measured', 'held-out ±10%', 'source'],
        list.map((x) => {
          const r = (x.result ?? x.progress) as {
            measured?: number;
            heldOut?: { within10: number };
            heldOutWithin10?: number;
            source?: string;
          };
          return [
            x.id,
            x.deviceId,
            x.state,
            x.options.budget,
            r.measured ?? 0,
            pct(r.heldOut?.within10 ?? r.heldOutWithin10),
            r.source ?? '-',
          ];
        }),
      ),
    );
  },
};

const adaptationStatus: CommandModule<object, Args<{ id: string; watch: boolean }>> = {
  command: 'status <id>',
  describe: 'one adaptation: phase, kernels measured, held-out accuracy, chosen source and why',
  builder: (y: Argv) =>
    withClientOptions(y)
      .positional('id', { type: 'string', demandOption: true, describe: 'the adaptation id (litepred adaptation list)' })
      .option('watch', { type: 'boolean', default: false, describe: 'follow it until it ends' })
      .option('json', { type: 'boolean', default: false }) as unknown as Argv<Args<{ id: string; watch: boolean }>>,
  handler: async (a) => {
    const client = Client.from(a);
    const x = a.watch ? await follow(client, a.id, !a.json) : await client.call('getAdaptation', { params: { id: a.id } });
    console.log(a.json ? JSON.stringify(x, null, 2) : describeAdaptation(x));
  },
};

export const adaptationCommand = commandGroup('adaptation', 'adaptations: list, status', [adaptationList, adaptationStatus]);

const predictorList: CommandModule<object, Args<{ device?: string }>> = {
  command: 'list',
  describe: 'kernel latency predictors: device, kernel type, version, kind, held-out accuracy, provenance',
  builder: (y: Argv) =>
    withClientOptions(y)
      .option('device', { type: 'string', describe: 'only this device' })
      .option('json', { type: 'boolean', default: false }) as unknown as Argv<Args<{ device?: string }>>,
  handler: async (a) => {
    const list = await Client.from(a).call('listPredictors', { query: { device: a.device } });
    if (a.json) return console.log(JSON.stringify(list, null, 2));
    console.log(
      formatTable(
        ['device', 'kernel type', 'version', 'kind', 'samples', 'held-out ±10%', 'from'],
        list.map((p) => [
          p.deviceId,
          p.kernelType,
          p.version,
          p.kind,
          p.trainingSamples,
          p.within10 === null ? '-' : `${pct(p.within10)} of ${p.heldOut}`,
          p.provenance.method === 'adapted' ? `adapted from ${p.provenance.sourceDevice}` : p.provenance.method,
        ]),
      ),
    );
  },
};

type PullArgs = Args<{ device: string; out: string; kernel?: string[]; 'predictor-version'?: number }>;

const predictorPull: CommandModule<object, PullArgs> = {
  command: 'pull',
  describe: "a device's predictors as ONNX + metadata, with device.json (run overhead, composition)",
  builder: (y: Argv) =>
    withClientOptions(y)
      .option('device', { type: 'string', demandOption: true, describe: 'the device' })
      .option('out', { type: 'string', demandOption: true, describe: 'directory for <type>.onnx + <type>.json + device.json' })
      .option('kernel', { type: 'string', array: true, describe: 'only these kernel types (default: all the device has)' })
      .option('predictor-version', { type: 'number', describe: 'this version (with one --kernel; default: the newest)' })
      .option('json', { type: 'boolean', default: false })
      .example('$0 predictor pull --device dev_… --out predictors/', 'every predictor of the device') as unknown as Argv<PullArgs>,
  handler: async (a) => {
    const client = Client.from(a);
    if (a['predictor-version'] !== undefined && a.kernel?.length !== 1) throw new Error('--predictor-version needs exactly one --kernel');
    const have = await client.call('devicePredictors', { params: { id: a.device } });
    const types = a.kernel ?? have.predictors.map((p) => p.kernelType);
    if (types.length === 0) throw new Error(`device ${a.device} has no predictors yet (litepred adapt --device ${a.device})`);
    mkdirSync(a.out, { recursive: true });
    const pulled: { kernelType: string; version: number | undefined; onnx: string; metadata: string }[] = [];
    for (const t of types) {
      const p = await client.call('exportPredictor', {
        params: { id: a.device, type: t },
        query: { version: a['predictor-version']?.toString() },
      });
      writeFileSync(join(a.out, `${t}.onnx`), Buffer.from(p.onnx, 'base64'));
      writeFileSync(join(a.out, `${t}.json`), JSON.stringify(p.metadata, null, 2) + '\n');
      pulled.push({ kernelType: t, version: p.metadata.version, onnx: `${t}.onnx`, metadata: `${t}.json` });
    }
    // model ms = overheadMs + Σ over kernels of prediction × composition.factors[type] (shared for a type not listed).
    const manifest = {
      deviceId: a.device,
      overheadMs: have.overheadMs,
      composition: have.composition && { version: have.composition.version, ...(have.composition.data as object) },
      pulledAt: new Date().toISOString(),
      coordinator: client.url,
      predictors: pulled,
    };
    writeFileSync(join(a.out, 'device.json'), JSON.stringify(manifest, null, 2) + '\n');
    if (a.json) console.log(JSON.stringify(manifest, null, 2));
    else
      console.log(
        `pulled ${pulled.length} predictor(s) of ${a.device} into ${a.out} (ONNX + metadata; device.json lists them with the run overhead)`,
      );
  },
};

export const predictorCommand = commandGroup('predictor', 'kernel latency predictors: list, pull', [predictorList, predictorPull]);

type Prediction = ResponseOf<'predict'>;

export const predictCommand: CommandModule<object, Args<{ model: string; device: string; 'input-shape'?: string; kernels: boolean }>> = {
  command: 'predict <model>',
  describe: "predict an ONNX model's latency on a device, with a per-kernel breakdown and coverage",
  builder: (y: Argv) =>
    withClientOptions(y)
      .positional('model', { type: 'string', demandOption: true, describe: 'an .onnx file' })
      .option('device', { type: 'string', demandOption: true, describe: 'the device' })
      .option('input-shape', { type: 'string', describe: 'input shape where the model leaves dims dynamic, e.g. 1x3x224x224' })
      .option('kernels', { type: 'boolean', default: false, describe: 'list every kernel, not one line per type' })
      .option('json', { type: 'boolean', default: false }) as unknown as Argv<Args<{ model: string; device: string; kernels: boolean }>>,
  handler: async (a) => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(a.model);
    } catch (e) {
      throw new Error(`cannot read ${a.model}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    if (a['input-shape']) parseShape(a['input-shape']); // a malformed shape is refused here, before the upload
    // The coordinator reads the graph, dims and small constants, not the weights' values: leave those here.
    const p = await Client.from(a).call('predict', {
      params: { id: a.device },
      query: { inputShape: a['input-shape'] },
      body: stripWeights(new Uint8Array(bytes)),
    });
    if (p.missingPredictors.length) process.exitCode = 1;
    if (a.json) return console.log(JSON.stringify(p, null, 2));
    const rows = a.kernels
      ? p.kernels.map((k) => [k.config.type, JSON.stringify(k.config).slice(0, 80), k.predictedMs ?? '-'])
      : [...groupByType(p)].map(([t, g]) => [t, g.count, g.ms ?? '-']);
    console.log(formatTable(a.kernels ? ['kernel type', 'config', 'ms'] : ['kernel type', 'kernels', 'ms'], rows));
    const moves =
      (p.reorders.count ? ` + ${p.reorders.count} layout reorders ${p.reorders.ms.toFixed(3)} ms` : '') +
      (p.copies.count ? ` + ${p.copies.count} copying reshapes/transposes ${p.copies.ms.toFixed(3)} ms` : '');
    console.log(
      `\n${a.model} on ${p.deviceId}: ${p.latencyMs.toFixed(3)} ms ` +
        `(kernels ${(p.latencyMs - p.overheadMs - p.reorders.ms - p.copies.ms).toFixed(3)} ms${moves} + run ` +
        `overhead ${p.overheadMs.toFixed(3)} ms)` +
        (p.composition
          ? `; kernel times are in-network (the device's composition from ${p.composition.models} whole models)`
          : '; no composition yet: kernel times are standalone'),
    );
    console.log(
      `coverage: ${p.kernels.length} kernels, ${(100 * p.coverage.flopsShare).toFixed(1)}% of the model's ` +
        `FLOPs, ${(100 * p.coverage.nodeShare).toFixed(1)}% of its compute nodes`,
    );
    for (const u of p.coverage.unsupported)
      console.log(
        `not covered: ${u.op} x${u.count} (${(u.flops / 1e6).toFixed(1)} MFLOPs)${u.reasons.length ? `: ${u.reasons.join('; ')}` : ''}`,
      );
    if (p.missingPredictors.length)
      console.error(
        `litepred: ${p.deviceId} has no predictor for ${p.missingPredictors.join(', ')}; those kernels are not in the ` +
          `total (adapt the device, or profile those types)`,
      );
  },
};

function groupByType(p: Prediction): Map<string, { count: number; ms: number | null }> {
  const out = new Map<string, { count: number; ms: number | null }>();
  for (const k of p.kernels) {
    const e = out.get(k.config.type) ?? { count: 0, ms: 0 };
    e.count++;
    e.ms = k.predictedMs === null || e.ms === null ? null : e.ms + k.predictedMs;
    out.set(k.config.type, e);
  }
  return out;
}
