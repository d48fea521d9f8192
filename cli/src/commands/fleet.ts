// Fleet commands: the coordinator, enrolment tokens, devices, campaigns, results.
import { chmodSync, createWriteStream, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import QRCode from 'qrcode';
import type { Argv, CommandModule } from 'yargs';
import { compactConfig, foldedConvType, kernelTypes, resolveConfig, type KernelConfig } from '@litepred/kernels';
import { Coordinator, installLine, loadFleetConfig, type DeviceProgress } from '@litepred/coordinator';
import { adminTokenFile, Client, withClientOptions, type ClientArgs } from '../client.js';
import { sampleConfigs } from '@litepred/sampler';
import { spaceKernelTypes } from '@litepred/spaces';
import { loadConfigFile } from '../config-files.js';
import { commandGroup } from './group.js';
import { formatTable } from '../table.js';

type Args<T> = T & ClientArgs & { json?: boolean };
const print = (json: boolean | undefined, data: unknown, text: () => string) => console.log(json ? JSON.stringify(data, null, 2) : text());
const ago = (t: number) => `${Math.round((Date.now() - t) / 1000)} s ago`;

const coordinatorStart: CommandModule = {
  command: 'start',
  describe: "start the coordinator (HTTP API, dashboard and the agents' WebSocket on one port); Ctrl-C stops it",
  builder: (y) =>
    y
      .option('config', { type: 'string', default: 'fleet.config.json', describe: 'fleet config' })
      .option('host', { type: 'string', describe: 'listen address (default: from the config)' })
      .option('port', { type: 'number', describe: 'listen port (default: from the config; 0 picks a free one)' })
      .option('database', { type: 'string', describe: 'SQLite file (default: from the config)' })
      .example('$0 coordinator start', 'on fleet.config.json: 127.0.0.1:7420, .litepred/litepred.sqlite, the starter pool')
      .example('$0 coordinator start --host 0.0.0.0 --port 7420', 'reachable from the boards on the network'),
  handler: async (argv) => {
    const config = loadFleetConfig(argv.config as string);
    const database = (argv.database as string | undefined) ?? config.database;
    mkdirSync(dirname(database), { recursive: true });
    const c = await Coordinator.start({
      host: (argv.host as string | undefined) ?? config.listen.host,
      port: (argv.port as number | undefined) ?? config.listen.port,
      database,
      leaseMs: config.leaseMs,
      heartbeatMs: config.heartbeatMs,
      log: (l) => console.error(l),
      starterPool: config.starterPool,
      protocol: config.protocol,
      autoAdapt: config.autoAdapt,
      maxModelNodes: config.maxModelNodes,
    });
    if (c.newAdminToken) {
      const file = adminTokenFile(database);
      writeFileSync(file, `${c.newAdminToken}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      console.error(`admin token created and written to ${file} (keep it secret)`);
    }
    console.log(`coordinator listening on ${c.address.http} (agents: ${c.address.ws}), database ${database}`);
    console.log(`dashboard: ${c.address.http}/ (read-only; the admin token unlocks enrolment links)`);
    const stop = async (signal: string) => {
      console.error(`${signal}: stopping (committing what has arrived)...`);
      await c.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  },
};

export const coordinatorCommand = commandGroup('coordinator', 'run the coordinator', [coordinatorStart]);

/** A verb that acts on one object by its id with a POST (revoke a token or a device, cancel a campaign). */
function postOnId(
  verb: string,
  describe: string,
  idHelp: string,
  route: 'revokeToken' | 'revokeDevice' | 'cancelCampaign',
  said: (id: string) => string,
  example?: [string, string],
): CommandModule<object, Args<{ id: string }>> {
  return {
    command: `${verb} <id>`,
    describe,
    builder: (y: Argv) => {
      const b = withClientOptions(y)
        .positional('id', { type: 'string', demandOption: true, describe: idHelp })
        .option('json', { type: 'boolean', default: false });
      return (example ? b.example(...example) : b) as unknown as Argv<Args<{ id: string }>>;
    },
    handler: async (a) => print(a.json, await Client.from(a).call(route, { params: { id: a.id } }), () => said(a.id)),
  };
}

type TokenCreateArgs = Args<{ label?: string; 'ttl-hours': number; 'max-uses': number; qr: boolean }>;

const tokenCreate: CommandModule<object, TokenCreateArgs> = {
  command: 'create',
  describe: 'a new enrolment token (one device within 24 h unless told otherwise), with the command and browser link that use it',
  builder: (y: Argv) =>
    withClientOptions(y)
      .option('label', { type: 'string', describe: 'a note for the operator' })
      .option('ttl-hours', { type: 'number', default: 24, describe: 'expires after this many hours (0: never)' })
      .option('max-uses', { type: 'number', default: 1, describe: 'enrols at most this many devices (0: any number)' })
      .option('qr', {
        type: 'boolean',
        default: false,
        describe: 'also print the browser enrolment link as a QR code (scan it with a phone)',
      })
      .option('json', { type: 'boolean', default: false })
      .example('$0 token create', 'a token for one device, valid for 24 hours')
      .example(
        '$0 token create --max-uses 20 --ttl-hours 2 --label lab',
        'for a rack of 20 boards this afternoon',
      ) as unknown as Argv<TokenCreateArgs>,
  handler: async (a) => {
    const client = Client.from(a);
    for (const [flag, v] of [
      ['ttl-hours', a['ttl-hours']],
      ['max-uses', a['max-uses']],
    ] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new Error(`--${flag}: a number of at least 0, not ${v}`);
    }
    if (!Number.isInteger(a['max-uses'])) throw new Error(`--max-uses: a whole number, not ${a['max-uses']}`);
    const body = {
      label: a.label,
      ttlMs: a['ttl-hours'] > 0 ? Math.round(a['ttl-hours'] * 3_600_000) : null,
      maxUses: a['max-uses'] > 0 ? a['max-uses'] : null,
    };
    const t = await client.call('createToken', { body });
    const browserUrl = `${client.url.replace(/^ws/, 'http').replace(/\/+$/, '')}/agent?token=${t.token}`;
    const qr = a.qr ? `\n${await QRCode.toString(browserUrl, { type: 'terminal', small: true })}` : '';
    const limits =
      `${body.maxUses === null ? 'any number of devices' : body.maxUses === 1 ? 'one device' : `${body.maxUses} devices`}, ` +
      `${t.expiresAt === null ? 'never expires' : `until ${new Date(t.expiresAt).toISOString()}`}`;
    const http = client.url.replace(/^ws/, 'http').replace(/\/+$/, '');
    const install = installLine(http, t.token);
    print(
      a.json,
      { ...t, browserUrl, install },
      () =>
        `${t.token}\n(enrols ${limits}; id ${t.id})\n\n` +
        `On a board with Node 20 or newer (installs the agent into ~/.litepred/agent; add --service user to keep it ` +
        `running):\n  ${install}\n` +
        `or, without piping to sh:  curl -fsSLO ${http}/install.sh && sh install.sh --token ${t.token}\n` +
        `From a clone of litepred: litepred agent --coordinator ${client.url} --token ${t.token}\n` +
        `In a browser (the browser agent): ${browserUrl}${qr}`,
    );
  },
};

const tokenList: CommandModule<object, Args<object>> = {
  command: 'list',
  describe: 'every enrolment token: state, uses, expiry',
  builder: (y: Argv) => withClientOptions(y).option('json', { type: 'boolean', default: false }) as unknown as Argv<Args<object>>,
  handler: async (a) => {
    const tokens = await Client.from(a).call('listTokens');
    print(a.json, tokens, () =>
      formatTable(
        ['id', 'label', 'state', 'uses', 'created', 'expires'],
        tokens.map((t) => [
          t.id,
          t.label,
          t.state,
          `${t.uses}/${t.maxUses ?? 'any'}`,
          ago(t.createdAt),
          t.expiresAt === null ? 'never' : new Date(t.expiresAt).toISOString(),
        ]),
      ),
    );
  },
};

const tokenRevoke = postOnId(
  'revoke',
  'stop a token enrolling anything more (devices it enrolled stay)',
  'the token id (litepred token list shows them)',
  'revokeToken',
  (id) => `${id} revoked: it enrols nothing more (devices it enrolled stay; litepred device revoke removes one)`,
  ['$0 token revoke 3f2a…', 'stops a token enrolling anything more'],
);

export const tokenCommand = commandGroup('token', 'enrolment tokens: create, list, revoke', [tokenCreate, tokenList, tokenRevoke]);

const deviceList: CommandModule<object, Args<object>> = {
  command: 'list',
  describe: 'enrolled devices: online or not, fingerprint, runtime, last seen',
  builder: (y: Argv) => withClientOptions(y).option('json', { type: 'boolean', default: false }) as unknown as Argv<Args<object>>,
  handler: async (a) => {
    const devices = await Client.from(a).call('listDevices');
    print(a.json, devices, () =>
      formatTable(
        ['device', 'state', 'cpu', 'cores', 'runtime', 'threads', 'opt', 'os', 'last seen'],
        devices.map((d) => [
          d.id,
          d.revoked ? 'revoked' : d.online ? 'online' : 'offline',
          d.fingerprint.cpuModel,
          d.fingerprint.cores,
          `${d.fingerprint.runtime.backend} ${d.fingerprint.runtimeVersion} (${d.fingerprint.executionProvider})`,
          d.fingerprint.runtime.threads,
          d.fingerprint.runtime.graphOptimizationLevel,
          d.fingerprint.os,
          ago(d.lastSeenAt),
        ]),
      ),
    );
  },
};

const deviceRevoke = postOnId(
  'revoke',
  'revoke a device: its connection is closed, its open tasks fail, its measurements stay',
  'the device id (litepred device list)',
  'revokeDevice',
  (id) => `${id} revoked`,
);

export const deviceCommand = commandGroup('device', 'enrolled devices: list, revoke', [deviceList, deviceRevoke]);

function progressTable(progress: DeviceProgress[]): string {
  return formatTable(
    ['device', 'done', 'failed', 'leased', 'pending', 'cancelled', 'progress'],
    progress.map((p) => {
      const total = p.done + p.failed + p.leased + p.pending + p.cancelled;
      return [
        p.deviceId,
        p.done,
        p.failed,
        p.leased,
        p.pending,
        p.cancelled,
        `${((100 * (p.done + p.failed)) / Math.max(1, total)).toFixed(1)}%`,
      ];
    }),
  );
}

interface CampaignCreateArgs {
  name?: string;
  file?: string;
  kernel?: string;
  sample?: number;
  types: 'all' | 'spaces';
  seed: number;
  device: string[];
  'all-devices': boolean;
}

const campaignCreate: CommandModule<object, Args<CampaignCreateArgs>> = {
  command: 'create',
  describe: 'measure kernel configs (from a file, or VAE-sampled) on devices',
  builder: (y: Argv) =>
    withClientOptions(y)
      .option('name', { type: 'string', describe: 'a name' })
      .option('file', { type: 'string', describe: 'kernel configs (.csv, .json, .jsonl)' })
      .option('kernel', { type: 'string', describe: 'kernel type for file rows without one (with --sample: only this type)' })
      .option('sample', { type: 'number', describe: 'instead of --file, N VAE-sampled configs of each kernel type (--types)' })
      .option('types', {
        choices: ['all', 'spaces'] as const,
        default: 'all' as const,
        describe:
          'with --sample: every kernel type as the devices run it (conv types with batch norm only, unless a device runs ' +
          'at opt level disabled), or only those the search spaces use',
      })
      .option('seed', { type: 'number', default: 1, describe: 'with --sample: sampler seed' })
      .option('device', { type: 'string', array: true, default: [] as string[], describe: 'a device id (repeat for several)' })
      .option('all-devices', { type: 'boolean', default: false, describe: 'every enrolled, unrevoked device' })
      .option('json', { type: 'boolean', default: false })
      .example('$0 campaign create --sample 60 --all-devices', '60 VAE configs of every kernel type on every device')
      .example(
        '$0 campaign create --file configs.csv --kernel conv-bn-relu --device dev_a --device dev_b',
        'your own configs on two devices',
      ) as unknown as Argv<Args<CampaignCreateArgs>>,
  handler: async (a) => {
    const client = Client.from(a);
    if (!a.file === (a.sample === undefined)) throw new Error('campaign create needs --file with kernel configs, or --sample N (not both)');
    if (a.sample !== undefined && !(Number.isInteger(a.sample) && a.sample > 0))
      throw new Error(`--sample: a positive whole number of configs per kernel type, not ${a.sample}`);
    let deviceIds = a.device;
    const devices = a['all-devices'] || a.sample !== undefined ? await client.call('listDevices') : [];
    if (a['all-devices']) deviceIds = devices.filter((d) => !d.revoked).map((d) => d.id);
    if (deviceIds.length === 0) throw new Error('name the devices: --device ID (repeat) or --all-devices');
    // Where every device folds batch norm into convs, a conv with and without it is one kernel: sample the -bn types only.
    const folding = deviceIds.every((id) => devices.find((d) => d.id === id)?.fingerprint.runtime.graphOptimizationLevel !== 'disabled');
    const types = a.kernel
      ? [a.kernel]
      : a.types === 'spaces'
        ? spaceKernelTypes()
        : kernelTypes().filter((t) => !folding || foldedConvType(t) === t);
    // A sampler can draw a config twice; the coordinator refuses a campaign that lists one twice.
    const sampled = (t: string, i: number) => [
      ...new Map(
        sampleConfigs(t, a.sample!, { sampler: 'vae', seed: a.seed * 1000 + i }).configs.map(
          (c) => [JSON.stringify(compactConfig(resolveConfig(c))), c] as const,
        ),
      ).values(),
    ];
    const configs: KernelConfig[] = a.file ? loadConfigFile(a.file, a.kernel).configs : types.flatMap(sampled);
    const c = await client.call('createCampaign', {
      body: { name: a.name ?? a.file ?? `${a.sample} VAE samples per kernel type`, configs, deviceIds },
    });
    print(
      a.json,
      c,
      () =>
        `${c.id}: ${configs.length} kernel configs on ${deviceIds.length} device(s). Follow it: litepred campaign ` +
        `status ${c.id} --watch\n` +
        'Each device that finishes gets full-data predictors and joins the pool (litepred predictor list).',
    );
  },
};

const campaignList: CommandModule<object, Args<object>> = {
  command: 'list',
  describe: 'every campaign: name, state, created',
  builder: (y: Argv) => withClientOptions(y).option('json', { type: 'boolean', default: false }) as unknown as Argv<Args<object>>,
  handler: async (a) => {
    const list = await Client.from(a).call('listCampaigns');
    print(a.json, list, () =>
      formatTable(
        ['campaign', 'name', 'state', 'created'],
        list.map((c) => [c.id, c.name, c.state, new Date(c.createdAt).toISOString()]),
      ),
    );
  },
};

const campaignStatus: CommandModule<object, Args<{ id: string; watch: boolean }>> = {
  command: 'status <id>',
  describe: "a campaign's state and per-device progress",
  builder: (y: Argv) =>
    withClientOptions(y)
      .positional('id', { type: 'string', demandOption: true, describe: 'the campaign id' })
      .option('watch', { type: 'boolean', default: false, describe: 'refresh every 2 s until the campaign ends' })
      .option('json', { type: 'boolean', default: false })
      .example('$0 campaign status cmp_… --watch', 'follow it to the end') as unknown as Argv<Args<{ id: string; watch: boolean }>>,
  handler: async (a) => {
    const client = Client.from(a);
    for (;;) {
      const c = await client.call('getCampaign', { params: { id: a.id } });
      if (a.json) console.log(JSON.stringify(c, null, a.watch ? 0 : 2));
      else console.log(`${c.id} (${c.name}): ${c.state}\n${progressTable(c.progress)}\n`);
      if (!a.watch || (c.state !== 'running' && c.state !== 'creating')) return;
      await new Promise((r) => setTimeout(r, 2000));
    }
  },
};

const campaignCancel = postOnId(
  'cancel',
  'cancel a running campaign: nothing more of it is leased, what was measured stays',
  'the campaign id',
  'cancelCampaign',
  (id) => `${id} cancelled`,
);

export const campaignCommand = commandGroup('campaign', 'profiling campaigns: create, list, status, cancel', [
  campaignCreate,
  campaignList,
  campaignStatus,
  campaignCancel,
]);

type ResultsExportArgs = Args<{ campaign?: string; device?: string; format: string; out?: string }>;

const resultsExport: CommandModule<object, ResultsExportArgs> = {
  command: 'export',
  describe: 'measurements as CSV or JSON lines, streamed (any size)',
  builder: (y: Argv) =>
    withClientOptions(y)
      .option('campaign', { type: 'string', describe: 'only this campaign' })
      .option('device', { type: 'string', describe: 'only this device' })
      .option('format', { choices: ['csv', 'jsonl'] as const, default: 'csv' as const })
      .option('out', { type: 'string', describe: 'write to this file instead of stdout' })
      .example(
        '$0 results export --campaign cmp_… --format csv --out results.csv',
        'one campaign, every device',
      ) as unknown as Argv<ResultsExportArgs>,
  handler: async (a) => {
    const query = { format: a.format, campaign: a.campaign, device: a.device };
    const client = Client.from(a);
    if (!a.out) {
      await client.download('results', { query }, process.stdout);
      return;
    }
    // Into a file next to the target, renamed over it once complete: a broken transfer leaves no half file.
    const partial = `${a.out}.partial`;
    const file = createWriteStream(partial);
    try {
      const lines = await client.download('results', { query }, file);
      await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
      renameSync(partial, a.out);
      console.error(`wrote ${lines - (a.format === 'csv' ? 1 : 0)} measurements to ${a.out}`);
    } catch (e) {
      file.destroy();
      rmSync(partial, { force: true });
      throw e;
    }
  },
};

export const resultsCommand = commandGroup('results', 'measurements: export', [resultsExport]);
