// Fleet commands: the coordinator, enrolment tokens, devices, campaigns, results.
import { chmodSync, createWriteStream, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import QRCode from 'qrcode';
import type { Argv, CommandModule } from 'yargs';
import { foldedConvType, kernelTypes, type KernelConfig } from '@litepred/kernels';
import { Coordinator, loadFleetConfig, type Campaign, type Device, type DeviceProgress, type EnrolmentToken } from '@litepred/coordinator';
import { adminTokenFile, Client, withClientOptions, type ClientArgs } from '../client.js';
import { sampleConfigs } from '@litepred/sampler';
import { spaceKernelTypes } from '@litepred/spaces';
import { loadConfigFile } from '../config-files.js';
import { formatTable } from '../table.js';

type Args<T> = T & ClientArgs & { json?: boolean };
const print = (json: boolean | undefined, data: unknown, text: () => string) => console.log(json ? JSON.stringify(data, null, 2) : text());
const ago = (t: number) => `${Math.round((Date.now() - t) / 1000)} s ago`;

export const coordinatorCommand: CommandModule = {
  command: 'coordinator <action>',
  describe: 'run the coordinator',
  builder: (y) => y
    .positional('action', { choices: ['start'] as const })
    .option('config', { type: 'string', default: 'fleet.config.json', describe: 'fleet config' })
    .option('host', { type: 'string', describe: 'listen address (default: from the config)' })
    .option('port', { type: 'number', describe: 'listen port (default: from the config; 0 picks a free one)' })
    .option('database', { type: 'string', describe: 'SQLite file (default: from the config)' }),
  handler: async (argv) => {
    const config = loadFleetConfig(argv.config as string);
    const database = (argv.database as string | undefined) ?? config.database;
    mkdirSync(dirname(database), { recursive: true });
    const c = await Coordinator.start({
      host: (argv.host as string | undefined) ?? config.listen.host, port: (argv.port as number | undefined) ?? config.listen.port,
      database, leaseMs: config.leaseMs, heartbeatMs: config.heartbeatMs, log: (l) => console.error(l),
      starterPool: config.starterPool, protocol: config.protocol, autoAdapt: config.autoAdapt, maxModelNodes: config.maxModelNodes,
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

export const tokenCommand: CommandModule<object, Args<{ action: string; id?: string; label?: string; 'ttl-hours': number; 'max-uses': number; qr?: boolean }>> = {
  command: 'token <action> [id]',
  describe: 'enrolment tokens: create (one device within 24 h unless told otherwise), list, revoke ID',
  builder: (y: Argv) => withClientOptions(y)
    .positional('action', { choices: ['create', 'list', 'revoke'] as const })
    .positional('id', { type: 'string', describe: 'the token id to revoke (token list shows them)' })
    .option('label', { type: 'string', describe: 'a note for the operator' })
    .option('ttl-hours', { type: 'number', default: 24, describe: 'create: expires after this many hours (0: never)' })
    .option('max-uses', { type: 'number', default: 1, describe: 'create: enrols at most this many devices (0: any number)' })
    .option('qr', { type: 'boolean', default: false, describe: 'also print the browser enrolment link as a QR code (scan it with a phone)' })
    .option('json', { type: 'boolean', default: false })
    .example('$0 token create', 'a token for one device, valid for 24 hours')
    .example('$0 token create --max-uses 20 --ttl-hours 2 --label lab', 'for a rack of 20 boards this afternoon')
    .example('$0 token revoke 3f2a…', 'stops a token enrolling anything more') as unknown as Argv<Args<{ action: string; 'ttl-hours': number; 'max-uses': number }>>,
  handler: async (a) => {
    const client = Client.from(a);
    if (a.action === 'list') {
      const tokens = await client.request<EnrolmentToken[]>('GET', '/api/tokens');
      print(a.json, tokens, () => formatTable(['id', 'label', 'state', 'uses', 'created', 'expires'], tokens.map((t) => [
        t.id, t.label, t.state, `${t.uses}/${t.maxUses ?? 'any'}`, ago(t.createdAt), t.expiresAt === null ? 'never' : new Date(t.expiresAt).toISOString()])));
      return;
    }
    if (a.action === 'revoke') {
      if (!a.id) throw new Error('token revoke needs the token id (litepred token list shows them)');
      print(a.json, await client.request('POST', `/api/tokens/${encodeURIComponent(a.id)}/revoke`), () => `${a.id} revoked: it enrols nothing more (devices it enrolled stay; litepred device revoke removes one)`);
      return;
    }
    for (const [flag, v] of [['ttl-hours', a['ttl-hours']], ['max-uses', a['max-uses']]] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new Error(`--${flag}: a number of at least 0, not ${v}`);
    }
    if (!Number.isInteger(a['max-uses'])) throw new Error(`--max-uses: a whole number, not ${a['max-uses']}`);
    const body = { label: a.label, ttlMs: a['ttl-hours'] > 0 ? Math.round(a['ttl-hours'] * 3_600_000) : null, maxUses: a['max-uses'] > 0 ? a['max-uses'] : null };
    const t = await client.request<{ id: string; token: string; expiresAt: number | null }>('POST', '/api/tokens', body);
    const browserUrl = `${client.url.replace(/^ws/, 'http').replace(/\/+$/, '')}/agent?token=${t.token}`;
    const qr = a.qr ? `\n${await QRCode.toString(browserUrl, { type: 'terminal', small: true })}` : '';
    const limits = `${body.maxUses === null ? 'any number of devices' : body.maxUses === 1 ? 'one device' : `${body.maxUses} devices`}, ` +
      `${t.expiresAt === null ? 'never expires' : `until ${new Date(t.expiresAt).toISOString()}`}`;
    print(a.json, { ...t, browserUrl }, () => `${t.token}\n(enrols ${limits}; id ${t.id})\n\nEnrol a device with: litepred agent --coordinator ${client.url} --token ${t.token}\n` +
      `or open this in the device's browser (the browser agent): ${browserUrl}${qr}`);
  },
};

export const deviceCommand: CommandModule<object, Args<{ action: string; id?: string }>> = {
  command: 'device <action> [id]',
  describe: 'enrolled devices: list, revoke ID',
  builder: (y: Argv) => withClientOptions(y)
    .positional('action', { choices: ['list', 'revoke'] as const })
    .positional('id', { type: 'string' })
    .option('json', { type: 'boolean', default: false }) as unknown as Argv<Args<{ action: string; id?: string }>>,
  handler: async (a) => {
    const client = Client.from(a);
    if (a.action === 'revoke') {
      if (!a.id) throw new Error('device revoke needs the device id');
      print(a.json, await client.request('POST', `/api/devices/${encodeURIComponent(a.id)}/revoke`), () => `${a.id} revoked`);
      return;
    }
    const devices = await client.request<(Device & { online: boolean })[]>('GET', '/api/devices');
    print(a.json, devices, () => formatTable(['device', 'state', 'cpu', 'cores', 'runtime', 'threads', 'opt', 'os', 'last seen'], devices.map((d) => [
      d.id, d.revoked ? 'revoked' : d.online ? 'online' : 'offline', d.fingerprint.cpuModel, d.fingerprint.cores,
      `${d.fingerprint.runtime.backend} ${d.fingerprint.runtimeVersion} (${d.fingerprint.executionProvider})`, d.fingerprint.runtime.threads,
      d.fingerprint.runtime.graphOptimizationLevel, d.fingerprint.os, ago(d.lastSeenAt)])));
  },
};

function progressTable(progress: DeviceProgress[]): string {
  return formatTable(['device', 'done', 'failed', 'leased', 'pending', 'cancelled', 'progress'], progress.map((p) => {
    const total = p.done + p.failed + p.leased + p.pending + p.cancelled;
    return [p.deviceId, p.done, p.failed, p.leased, p.pending, p.cancelled, `${((100 * (p.done + p.failed)) / Math.max(1, total)).toFixed(1)}%`];
  }));
}

interface CampaignArgs { action: string; id?: string; name?: string; file?: string; kernel?: string; sample?: number; types: 'all' | 'spaces'; seed: number; device: string[]; 'all-devices': boolean; watch: boolean }

export const campaignCommand: CommandModule<object, Args<CampaignArgs>> = {
  command: 'campaign <action> [id]',
  describe: 'profiling campaigns: create, list, status ID [--watch], cancel ID',
  builder: (y: Argv) => withClientOptions(y)
    .positional('action', { choices: ['create', 'list', 'status', 'cancel'] as const })
    .positional('id', { type: 'string' })
    .option('name', { type: 'string', describe: 'create: a name' })
    .option('file', { type: 'string', describe: 'create: kernel configs (.csv, .json, .jsonl)' })
    .option('kernel', { type: 'string', describe: 'create: kernel type for file rows without one (with --sample: only this type)' })
    .option('sample', { type: 'number', describe: 'create: instead of --file, N VAE-sampled configs of each kernel type (--types)' })
    .option('types', { choices: ['all', 'spaces'] as const, default: 'all' as const,
      describe: 'create --sample: every kernel type as the devices run it (conv types with batch norm only, unless a device runs at opt level disabled), or only those the search spaces use' })
    .option('seed', { type: 'number', default: 1, describe: 'create --sample: sampler seed' })
    .option('device', { type: 'string', array: true, default: [] as string[], describe: 'create: a device id (repeat for several)' })
    .option('all-devices', { type: 'boolean', default: false, describe: 'create: every enrolled, unrevoked device' })
    .option('watch', { type: 'boolean', default: false, describe: 'status: refresh until the campaign ends' })
    .option('json', { type: 'boolean', default: false }) as unknown as Argv<Args<CampaignArgs>>,
  handler: async (a) => {
    const client = Client.from(a);
    if (a.action === 'create') {
      if (!a.file === (a.sample === undefined)) throw new Error('campaign create needs --file with kernel configs, or --sample N (not both)');
      if (a.sample !== undefined && !(Number.isInteger(a.sample) && a.sample > 0)) throw new Error(`--sample: a positive whole number of configs per kernel type, not ${a.sample}`);
      let deviceIds = a.device;
      const devices = a['all-devices'] || a.sample !== undefined ? await client.request<Device[]>('GET', '/api/devices') : [];
      if (a['all-devices']) deviceIds = devices.filter((d) => !d.revoked).map((d) => d.id);
      if (deviceIds.length === 0) throw new Error('name the devices: --device ID (repeat) or --all-devices');
      // Where every device folds batch norm into convs, a conv with and without it is one kernel: sample the -bn types only.
      const folding = deviceIds.every((id) => devices.find((d) => d.id === id)?.fingerprint.runtime.graphOptimizationLevel !== 'disabled');
      const types = a.kernel ? [a.kernel] : a.types === 'spaces' ? spaceKernelTypes() : kernelTypes().filter((t) => !folding || foldedConvType(t) === t);
      const configs: KernelConfig[] = a.file ? loadConfigFile(a.file, a.kernel).configs
        : types.flatMap((t, i) => sampleConfigs(t, a.sample!, { sampler: 'vae', seed: a.seed * 1000 + i }).configs);
      const c = await client.request<Campaign>('POST', '/api/campaigns', { name: a.name ?? a.file ?? `${a.sample} VAE samples per kernel type`, configs, deviceIds });
      print(a.json, c, () => `${c.id}: ${configs.length} kernel configs on ${deviceIds.length} device(s). Follow it: litepred campaign status ${c.id} --watch\n` +
        'Each device that finishes gets full-data predictors and joins the pool (litepred predictor list).');
      return;
    }
    if (a.action === 'list') {
      const list = await client.request<Campaign[]>('GET', '/api/campaigns');
      print(a.json, list, () => formatTable(['campaign', 'name', 'state', 'created'], list.map((c) => [c.id, c.name, c.state, new Date(c.createdAt).toISOString()])));
      return;
    }
    if (!a.id) throw new Error(`campaign ${a.action} needs the campaign id`);
    if (a.action === 'cancel') {
      print(a.json, await client.request('POST', `/api/campaigns/${encodeURIComponent(a.id)}/cancel`), () => `${a.id} cancelled`);
      return;
    }
    for (;;) {
      const c = await client.request<Campaign & { progress: DeviceProgress[] }>('GET', `/api/campaigns/${encodeURIComponent(a.id)}`);
      if (a.json) console.log(JSON.stringify(c, null, a.watch ? 0 : 2));
      else console.log(`${c.id} (${c.name}): ${c.state}\n${progressTable(c.progress)}\n`);
      if (!a.watch || (c.state !== 'running' && c.state !== 'creating')) return;
      await new Promise((r) => setTimeout(r, 2000));
    }
  },
};

export const resultsCommand: CommandModule<object, Args<{ action: string; campaign?: string; device?: string; format: string; out?: string }>> = {
  command: 'results <action>',
  describe: 'measurements: export --format csv|jsonl',
  builder: (y: Argv) => withClientOptions(y)
    .positional('action', { choices: ['export'] as const })
    .option('campaign', { type: 'string', describe: 'only this campaign' })
    .option('device', { type: 'string', describe: 'only this device' })
    .option('format', { choices: ['csv', 'jsonl'] as const, default: 'csv' as const })
    .option('out', { type: 'string', describe: 'write to this file instead of stdout' }) as unknown as Argv<Args<{ action: string; format: string }>>,
  handler: async (a) => {
    const q = new URLSearchParams({ format: a.format });
    if (a.campaign) q.set('campaign', a.campaign);
    if (a.device) q.set('device', a.device);
    const client = Client.from(a);
    if (!a.out) {
      await client.download(`/api/results?${q}`, process.stdout);
      return;
    }
    // Into a file next to the target, renamed over it once complete: a broken transfer leaves no half file.
    const partial = `${a.out}.partial`;
    const file = createWriteStream(partial);
    try {
      const lines = await client.download(`/api/results?${q}`, file);
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
