// The fleet commands as an operator runs them, against a real coordinator on a loopback port.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator, importStarterPool } from '@litepred/coordinator';
import { KernelProfiler } from '@litepred/profiler';
import type { TaskResult } from '@litepred/protocol';

const BIN = new URL('../bin/litepred.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'litepred-fleet-cli-'));
let c: Coordinator;
let deviceId: string;

/** Runs the CLI without blocking this process: the coordinator under test lives in it. */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const litepred = (...args: string[]) => run([...args, '--url', c.address.http, '--admin-token', c.newAdminToken!]);

beforeAll(async () => {
  c = await Coordinator.start({ database: join(dir, 'fleet.sqlite'), port: 0 });
  const { token } = c.store.createEnrolmentToken();
  deviceId = c.store.enrolDevice(token, {
    cpuModel: 'Board CPU',
    cores: 4,
    arch: 'arm64',
    os: 'Linux 6.1',
    memoryBytes: 4e9,
    runtime: { backend: 'ort-node', threads: 2, graphOptimizationLevel: 'all' },
    runtimeVersion: '1.30.0',
    executionProvider: 'cpu',
  }).deviceId;
});
afterAll(() => c.stop());

/**
 * Real measurements in the store: the shipped starter pool (its records carry no runtime of their
 * own) and two kernels a real profiler timed for the enrolled device, stored as an agent's results are.
 */
async function storeMeasurements(): Promise<{ campaignId: string }> {
  importStarterPool(new URL('../../coordinator/starter-pool/', import.meta.url).pathname, c.store);
  const configs = [
    { type: 'relu', HW: 8, CIN: 8 },
    { type: 'conv-bn-relu', HW: 8, CIN: 8, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 },
  ];
  const campaign = c.store.createCampaign({
    name: 'export, "quoted"',
    configs,
    deviceIds: [deviceId],
    protocol: { warmupRuns: 2, warmupMs: 0, minRuns: 5, maxRuns: 10, maxMs: 200, targetPrecision: 0.1 },
  });
  const lease = c.store.leaseTasks(deviceId, 10, 60_000)!;
  const profiler = await KernelProfiler.create({ protocol: lease.protocol, coldWeightMsPerByte: 0 });
  const items: TaskResult[] = [];
  for (const t of lease.tasks)
    items.push({
      taskId: t.taskId,
      leaseId: lease.leaseId,
      measurement: (await profiler.measure(t.config)) as unknown as TaskResult['measurement'],
    });
  expect(c.store.recordResults(deviceId, items).rejected).toEqual([]);
  return { campaignId: campaign.id };
}

describe('fleet commands', () => {
  it('creates an enrolment token that enrols', async () => {
    const r = await litepred('token', 'create', '--label', 'lab', '--max-uses', '1', '--json');
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout) as { token: string; browserUrl: string; install: string };
    expect(c.store.checkEnrolmentToken(t.token)).toBe(true);
    expect(t.browserUrl).toBe(`${c.address.http}/agent?token=${t.token}`);
    expect(t.install).toBe(`curl -fsSL ${c.address.http}/install.sh | sh -s -- --token ${t.token}`);
    // The text form gives the board's install line, the browser link and, with --qr, a QR code of it for a phone to scan.
    const text = await litepred('token', 'create', '--qr');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}curl -fsSL http:\/\/127\.0\.0\.1:\d+\/install\.sh \| sh -s -- --token lpe_\S+$/m);
    expect(text.stdout).toMatch(/In a browser \(the browser agent\): http:\/\/127\.0\.0\.1:\d+\/agent\?token=lpe_\S+/);
    expect(text.stdout).toMatch(/[▀▄█]{10}/);
  });

  it('makes a token for one device within 24 hours unless told otherwise; lists and revokes tokens', async () => {
    const before = Date.now();
    const one = JSON.parse((await litepred('token', 'create', '--json')).stdout) as { id: string; token: string; expiresAt: number };
    expect(one.expiresAt).toBeGreaterThanOrEqual(before + 24 * 3_600_000);
    expect(one.expiresAt).toBeLessThan(Date.now() + 24 * 3_600_000 + 1000);
    const fp = {
      cpuModel: 'Board',
      cores: 1,
      arch: 'arm64',
      os: 'Linux',
      memoryBytes: 1e9,
      runtime: { backend: 'ort-node' as const, threads: 1, graphOptimizationLevel: 'all' as const },
      runtimeVersion: '1.30.0',
      executionProvider: 'cpu',
    };
    c.store.enrolDevice(one.token, fp);
    expect(() => c.store.enrolDevice(one.token, fp)).toThrow();
    const open = JSON.parse(
      (await litepred('token', 'create', '--max-uses', '0', '--ttl-hours', '0', '--label', 'rack', '--json')).stdout,
    ) as { id: string; token: string; expiresAt: number | null };
    expect(open.expiresAt).toBeNull();
    const list = await litepred('token', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${one.id}\\s+used up\\s+1/1`));
    expect(list.stdout).toMatch(new RegExp(`${open.id}\\s+rack\\s+valid\\s+0/any\\s+.*never`));
    const revoked = await litepred('token', 'revoke', open.id);
    expect(revoked.code).toBe(0);
    expect(c.store.checkEnrolmentToken(open.token)).toBe(false);
    expect((await litepred('token', 'list', '--json')).stdout).toContain(`"id": "${open.id}"`);
    expect((await litepred('token', 'revoke', 'nope')).stderr).toMatch(/no enrolment token nope \(HTTP 404\)/);
    expect((await litepred('token', 'create', '--max-uses', '-1')).stderr).toMatch(/--max-uses: a number of at least 0/);
  });

  it('lists devices with their fingerprint', async () => {
    const r = await litepred('device', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${deviceId}\\s+offline\\s+Board CPU\\s+4\\s+ort-node 1.30.0 \\(cpu\\)\\s+2\\s+all`));
  });

  it("samples every kernel type as the device runs it, or only the search spaces' types", async () => {
    const all = await litepred('campaign', 'create', '--sample', '1', '--device', deviceId, '--json');
    expect(all.code).toBe(0);
    const allId = JSON.parse(all.stdout).id as string;
    const typesOf = (id: string) => new Set(c.store.campaignResults(id).map((r) => r.config.type));
    const types = typesOf(allId);
    // The device folds batch norm (opt level all): conv types with batch norm only, and the new vocabulary.
    expect(types.has('conv-bn-relu')).toBe(true);
    expect(types.has('conv-relu')).toBe(false);
    expect(types.has('bmm')).toBe(true);
    const spaces = await litepred('campaign', 'create', '--sample', '1', '--types', 'spaces', '--device', deviceId, '--json');
    const spacesTypes = typesOf(JSON.parse(spaces.stdout).id as string);
    expect(spacesTypes.has('bmm')).toBe(false);
    expect(spacesTypes.size).toBeLessThan(types.size);
    for (const id of [allId, JSON.parse(spaces.stdout).id as string]) expect((await litepred('campaign', 'cancel', id)).code).toBe(0);
  });

  it('creates a campaign from a file, shows its progress, cancels it', async () => {
    const file = join(dir, 'configs.csv');
    writeFileSync(file, 'HW,CIN,COUT,KERNEL_SIZE,STRIDES\n14,16,32,3,1\n7,32,64,1,1\n');
    const created = await litepred('campaign', 'create', '--file', file, '--kernel', 'conv-bn-relu', '--device', deviceId, '--json');
    expect(created.code).toBe(0);
    const id = JSON.parse(created.stdout).id as string;
    const status = await litepred('campaign', 'status', id, '--json');
    expect(JSON.parse(status.stdout).progress).toEqual([{ deviceId, pending: 2, leased: 0, done: 0, failed: 0, cancelled: 0 }]);
    expect((await litepred('campaign', 'list')).stdout).toMatch(new RegExp(`${id}\\s+.*configs\\.csv\\s+running`));
    expect((await litepred('campaign', 'cancel', id)).code).toBe(0);
    expect(c.store.getCampaign(id).state).toBe('cancelled');
    const again = await litepred('campaign', 'cancel', id);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already cancelled \(HTTP 400\)/);
  });

  it("exports real results as CSV and JSON lines, all of them or one device's or campaign's", async () => {
    const { campaignId } = await storeMeasurements();
    const total = c.store.measurements().length;
    expect(total).toBeGreaterThan(1000);
    const csvFile = join(dir, 'results.csv');
    const csv = await litepred('results', 'export', '--format', 'csv', '--out', csvFile);
    expect(csv.code).toBe(0);
    expect(csv.stderr).toContain(`wrote ${total} measurements to ${csvFile}`);
    const rows = readFileSync(csvFile, 'utf8').trimEnd().split('\n');
    expect(rows[0]).toMatch(/^task_id,campaign_id,device_id,kernel_type,HW,CIN,COUT,KERNEL_SIZE,STRIDES,/);
    expect(rows).toHaveLength(total + 1);
    // A starter-pool row gets its runtime from the device; the agent's rows from their measurement.
    expect(rows.find((r) => r.includes(',pool-node-t1-all,'))).toMatch(/,ort-node,1,all,1\.30\.0$/);
    expect(rows.filter((r) => r.includes(`,${deviceId},`))).toHaveLength(2);

    const jsonl = await litepred('results', 'export', '--format', 'jsonl', '--device', deviceId);
    expect(jsonl.code).toBe(0);
    const records = jsonl.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { deviceId: string; kernelType: string; latencyMs: number });
    expect(records.map((r) => [r.deviceId, r.kernelType])).toEqual([
      [deviceId, 'relu'],
      [deviceId, 'conv-bn-relu'],
    ]);
    expect(records.every((r) => r.latencyMs > 0)).toBe(true);

    const byCampaign = await litepred('results', 'export', '--format', 'jsonl', '--campaign', campaignId, '--out', join(dir, 'one.jsonl'));
    expect(byCampaign.stderr).toContain('wrote 2 measurements');
  });

  it('refuses an export of an unknown campaign or device or format, leaving no file behind', async () => {
    const out = join(dir, 'nope.csv');
    const campaign = await litepred('results', 'export', '--campaign', 'cmp_nope', '--out', out);
    expect(campaign.code).toBe(2);
    expect(campaign.stderr).toMatch(/no campaign cmp_nope \(HTTP 404\)/);
    expect(existsSync(out) || existsSync(`${out}.partial`)).toBe(false);
    expect((await litepred('results', 'export', '--device', 'dev_nope')).stderr).toMatch(/no device dev_nope \(HTTP 404\)/);
    const res = await fetch(`${c.address.http}/api/results?format=xml`);
    expect(res.status).toBe(400);
  });

  it('says what is wrong: unknown campaign, no or unknown devices, a wrong admin token, no coordinator', async () => {
    expect((await litepred('campaign', 'status', 'cmp_nope')).stderr).toMatch(/no campaign cmp_nope \(HTTP 404\)/);
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'type,HW,CIN\nrelu,8,8\n');
    expect((await litepred('campaign', 'create', '--file', file)).stderr).toMatch(/--device ID \(repeat\) or --all-devices/);
    expect((await litepred('campaign', 'create', '--file', file, '--device', 'dev_nope')).stderr).toMatch(/no device dev_nope/);
    const r = await run(['token', 'create', '--url', c.address.http, '--admin-token', 'lpa_wrong']);
    expect(r.stderr).toMatch(/needs the admin token .*\(HTTP 401\)/);
    const down = await run(['device', 'list', '--url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot reach the coordinator at http:\/\/127\.0\.0\.1:1/);
  });
});
