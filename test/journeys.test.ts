// The user journeys end to end with the real parts: a coordinator with the starter pool on a
// loopback port, a real agent process, a real SQLite file. Enrol, adapt within a tiny budget
// (surviving the agent's death), pull the predictors, predict a model through the CLI and HTTP,
// and check the pulled ONNX predictors give the coordinator's numbers on onnxruntime-node.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernelModel, featureVector, kernelCost, kernelTypes } from '@litepred/kernels';
import { Coordinator, STARTER_POOL_DIR, type Adaptation } from '@litepred/coordinator';
import { decomposeModel, FUSION_PAIRS, type ModelPrediction } from '@litepred/predictor';
import { buildArchitectureModel, getSpace, sampleArchitecture } from '@litepred/spaces';
import { agent, client, CLI, FAST_PROTOCOL, kill, tempDir, waitFor, type Proc } from './helpers/fleet.js';

const { onnx } = onnxProto;
const BUDGET = 120;

let dir: string;
let c: Coordinator;
let deviceId: string;
let adaptation: Adaptation;
const procs: Proc[] = [];
const database = () => join(dir, 'fleet.sqlite');
// A restart listens on the same port, so the agent process reconnects to it.
let port = 0;
const start = async (autoAdapt?: { budget: number; target: number }) => {
  c = await Coordinator.start({
    database: database(),
    port,
    heartbeatMs: 500,
    starterPool: STARTER_POOL_DIR.pathname,
    protocol: FAST_PROTOCOL,
    autoAdapt,
  });
  port = c.address.port;
};
/** The CLI as a process: exit code, stdout (data) and everything printed (for messages). */
const cli = async (...args: string[]) => {
  const child = spawn(process.execPath, [CLI, ...args, '--url', c.address.http, '--admin-token', adminToken], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let [stdout, out] = ['', ''];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, out };
};
let adminToken = '';

beforeAll(async () => {
  dir = tempDir();
  await start();
  adminToken = c.newAdminToken!;
  const { token } = c.store.createEnrolmentToken();
  const state = join(dir, 'agent.json');
  // A runtime configuration the starter pool does not have: two threads, basic optimizations.
  procs.push(agent(c.address.ws, state, token, 'ort-node', 2, 'basic'));
  deviceId = await waitFor('the device online', () => c.onlineDevices()[0], 90_000);
  const started = await client(c.address.http, adminToken).call('adapt', {
    params: { id: deviceId },
    body: { budget: BUDGET, target: 0.99, models: 7 },
  });
  // Kill the agent once the adaptation has measured something, check the adaptation waits, bring it back.
  await waitFor('some kernels measured', () => (c.predictors.adaptations.get(started.id).progress.measured as number) > 0, 120_000);
  await kill(procs.pop()!, 'SIGKILL');
  await waitFor(
    'the adaptation to notice',
    () =>
      /offline/.test(String(c.predictors.adaptations.get(started.id).progress.waiting ?? '')) ||
      c.predictors.adaptations.get(started.id).state !== 'running',
    30_000,
  );
  procs.push(agent(c.address.ws, state, undefined, 'ort-node', 2, 'basic'));
  adaptation = await waitFor(
    'the adaptation to end',
    () => {
      const a = c.predictors.adaptations.get(started.id);
      return a.state !== 'running' && a;
    },
    240_000,
  );
}, 420_000);

afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => kill(p, 'SIGKILL')));
  await c?.stop();
});

describe('journeys: enrol, adapt, pull, predict', () => {
  it('imports the starter pool and builds full-data predictors for it', () => {
    const pool = c.store.listDevices().filter((d) => d.origin === 'starter-pool');
    expect(pool.length).toBeGreaterThanOrEqual(6);
    // Every kernel type the search spaces use.
    for (const d of pool) {
      expect(c.predictors.latestPredictors(d.id).length).toBeGreaterThanOrEqual(26);
      expect(c.predictors.latestComposition(d.id)?.provenance.models).toBeGreaterThanOrEqual(200);
    }
  });

  it('gives the dashboard its figures: each predictor on its own kernels, and the similarity between devices', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${c.address.http}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const accuracy = (await get('/api/devices/pool-web-t1/accuracy')).body as {
      types: { type: string; metrics: { within10: number } | null }[];
      points: { type: string; predictedMs: number; measuredMs: number }[];
    };
    expect(accuracy.types.length).toBeGreaterThanOrEqual(26);
    expect(accuracy.points.length).toBeGreaterThan(1000);
    // A full-data roofline on the kernels it was fitted on: mostly close, in rank above all.
    const conv = accuracy.points.filter((p) => p.type === 'conv-bn-relu');
    const within25 = conv.filter((p) => Math.abs(p.predictedMs - p.measuredMs) <= 0.25 * p.measuredMs).length / conv.length;
    expect(within25).toBeGreaterThan(0.5);
    expect((await get('/api/devices/dev_nobody/accuracy')).status).toBe(404);

    const sim = (await get('/api/similarity')).body as { devices: string[]; cells: ({ spearman: number; kernels: number } | null)[][] };
    const at = (a: string, b: string) => sim.cells[sim.devices.indexOf(a)]![sim.devices.indexOf(b)];
    // Each pool device's predictors rank its own kernels better than another runtime's.
    for (const d of ['pool-node-t1-all', 'pool-web-t1']) expect(at(d, d)!.spearman).toBeGreaterThan(0.95);
    expect(at('pool-node-t1-all', 'pool-node-t1-all')!.spearman).toBeGreaterThan(at('pool-node-t1-all', 'pool-node-t1-disabled')!.spearman);
    const overview = (await get('/api/overview')).body as { devices: { id: string; predictorTypes: number; measurements: number }[] };
    expect(overview.devices.find((d) => d.id === 'pool-web-t1')).toMatchObject({
      predictorTypes: expect.any(Number),
      measurements: expect.any(Number),
    });
    expect(overview.devices.find((d) => d.id === 'pool-web-t1')!.predictorTypes).toBeGreaterThanOrEqual(26);
  });

  it('adapts the new device within its budget, from a pool device, and registers its predictors', () => {
    expect(adaptation.state, adaptation.error ?? '').toBe('done');
    const r = adaptation.result as {
      source: string;
      measured: number;
      heldOut: { within10: number; n: number };
      predictors: { kernelType: string; version: number }[];
    };
    expect(r.source).toMatch(/^pool-/);
    expect(r.measured).toBeLessThanOrEqual(BUDGET);
    expect(r.heldOut.n).toBeGreaterThan(0);
    // Fusion rules measured on the device (nn-Meter's test); a pair whose probe timed at 0 stays undecided (fused).
    const rules = Object.keys(c.predictors.fusionRules(deviceId) ?? {});
    expect(rules.length).toBeGreaterThanOrEqual(3);
    for (const r of rules) expect(FUSION_PAIRS.map((p) => p.name)).toContain(r);
    // Then the composition, from 7 whole models the agent timed end to end.
    const composition = c.predictors.latestComposition(deviceId)!;
    expect(composition.provenance).toMatchObject({ method: 'adapted', adaptationId: adaptation.id, models: 7 });
    expect(Object.keys((composition.data as { factors: object }).factors).length).toBeGreaterThan(5);
    const stored = c.predictors.latestPredictors(deviceId);
    expect(stored.map((p) => p.kernelType).sort()).toEqual(r.predictors.map((p) => p.kernelType).sort());
    // Transferred, or trained on the device's own kernels where that cross-validated better.
    expect(stored.every((p) => ['recalibrated', 'roofline'].includes(p.kind) && p.provenance.method === 'adapted')).toBe(true);
    expect(stored.filter((p) => p.kind === 'recalibrated').length).toBeGreaterThan(stored.length / 2);
    // Killing the agent lost nothing and duplicated nothing: one measurement per adaptation task.
    const campaigns = c.store
      .listCampaigns()
      .filter((x) => x.name.startsWith(`adapt ${adaptation.id}:`) && !/: (models|fusion)$/.test(x.name));
    const counts = campaigns.map((x) => c.store.taskCounts(x.id));
    expect(counts.every((n) => n.measurements === n.distinctMeasuredTasks && n.measurements <= n.tasks)).toBe(true);
    expect(counts.reduce((s, n) => s + n.tasks, 0)).toBe(r.measured);
  });

  it("pulls the predictors, and the pulled ONNX files give the coordinator's prediction on onnxruntime-node", async () => {
    const out = join(dir, 'pulled');
    const pulled = await cli('predictor', 'pull', '--device', deviceId, '--out', out);
    expect(pulled.code, pulled.out).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'device.json'), 'utf8')) as {
      overheadMs: number;
      composition: { factors: Record<string, number>; shared: number; models: number };
      predictors: { kernelType: string; version: number }[];
    };
    expect(manifest.composition.models).toBe(7);
    const model = buildArchitectureModel(sampleArchitecture(getSpace('ofa-mbv3'), 3)).bytes;
    const file = join(dir, 'model.onnx');
    writeFileSync(file, model);
    const viaCli = await cli('predict', file, '--device', deviceId, '--json');
    expect(viaCli.code, viaCli.out).toBe(0);
    const prediction = JSON.parse(viaCli.stdout) as ModelPrediction;
    expect(prediction.missingPredictors).toEqual([]);
    expect(prediction.coverage.unsupported).toEqual([]);
    const res = await fetch(`${c.address.http}/api/devices/${deviceId}/predict`, { method: 'POST', body: new Blob([model]) });
    expect(((await res.json()) as ModelPrediction).latencyMs).toBeCloseTo(prediction.latencyMs, 9);

    let sum = manifest.overheadMs;
    const sessions = new Map<string, { session: ort.InferenceSession; columns: string[] }>();
    for (const k of decomposeModel(model, { fusionRules: c.service.fusionRulesFor(deviceId) }).kernels) {
      let s = sessions.get(k.config.type);
      if (!s) {
        const metadata = JSON.parse(readFileSync(join(out, `${k.config.type}.json`), 'utf8')) as {
          input: { columns: string[] };
          version: number;
        };
        expect(metadata.version).toBe(manifest.predictors.find((p) => p.kernelType === k.config.type)!.version);
        sessions.set(
          k.config.type,
          (s = { session: await ort.InferenceSession.create(join(out, `${k.config.type}.onnx`)), columns: metadata.input.columns }),
        );
      }
      const features = featureVector(k.config);
      if (s.columns.at(-1) === 'ACTIVATION_MB') features.push(kernelCost(k.config).activationBytes / 2 ** 20);
      expect(features.length).toBe(s.columns.length);
      const result = await s.session.run({ features: new ort.Tensor('float32', Float32Array.from(features), [1, features.length]) });
      sum += (result.latency_ms!.data as Float32Array)[0]! * (manifest.composition.factors[k.config.type] ?? manifest.composition.shared);
    }
    expect(Math.abs(sum / prediction.latencyMs - 1)).toBeLessThan(1e-4);
  });

  it('reports an op no kernel covers, in the prediction and through the CLI', async () => {
    const m = onnx.ModelProto.decode(
      buildKernelModel({ type: 'conv-bn-relu', HW: 16, CIN: 8, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 }, { outputs: 'full' }).bytes,
    );
    m.graph!.node!.push({ opType: 'LpNormalization', input: [m.graph!.output![0]!.name!], output: ['normed'], name: 'lp' });
    m.graph!.output![0]!.name = 'normed';
    const file = join(dir, 'lp.onnx');
    writeFileSync(file, onnx.ModelProto.encode(m).finish());
    const r = await cli('predict', file, '--device', deviceId);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/not covered: LpNormalization x1/);
    // conv-bn-relu, or conv-bn and relu where the device runs them unfused (its fusion rules).
    expect(r.out).toMatch(/conv-bn/);
  });

  it(
    'gives clear errors for a wrong input shape, an unknown device, a kernel type the device lacks, and a model that is ' + 'not ONNX',
    async () => {
      const file = join(dir, 'model.onnx');
      expect((await cli('predict', file, '--device', deviceId, '--input-shape', '1x3x10x10')).out).toMatch(
        /litepred: coordinator: model: .*input/i,
      );
      expect((await cli('predict', file, '--device', 'dev_nope')).out).toMatch(/no device dev_nope \(HTTP 404\)/);
      const have = new Set(c.predictors.latestPredictors(deviceId).map((p) => p.kernelType));
      const missing = kernelTypes().find((t) => !have.has(t))!;
      const lacking = await cli('predictor', 'pull', '--device', deviceId, '--kernel', missing, '--out', join(dir, 'x'));
      expect(lacking.code).toBe(2);
      expect(lacking.out).toMatch(new RegExp(`device ${deviceId} has no ${missing} predictor; it has: `));
      const junk = join(dir, 'junk.onnx');
      writeFileSync(junk, 'not a model');
      expect((await cli('predict', junk, '--device', deviceId)).out).toMatch(/litepred: coordinator: model: /);
      expect((await cli('adapt', '--device', 'pool-node-t1-all')).out).toMatch(/starter-pool device; adapt an enrolled one/);
    },
  );

  it('keeps everything across a coordinator restart, and does not import the pool twice', async () => {
    const before = { devices: c.store.listDevices().length, predictors: c.predictors.latestPredictors().length };
    await c.stop();
    await start();
    expect(c.store.listDevices().length).toBe(before.devices);
    expect(c.predictors.latestPredictors().length).toBe(before.predictors);
    expect(c.predictors.adaptations.get(adaptation.id).state).toBe('done');
    const status = await cli('adaptation', 'status', adaptation.id);
    expect(status.stdout).toMatch(new RegExp(`${adaptation.id}: done\\. Source pool-`));
    const list = await cli('predictor', 'list', '--device', deviceId, '--json');
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(c.predictors.latestPredictors(deviceId).length);
  });

  it('runs a profiling campaign from the sampler; the device that finishes gets full-data predictors and joins the pool', async () => {
    const online = await waitFor('the agent back online', () => c.onlineDevices().includes(deviceId), 60_000);
    expect(online).toBe(true);
    const created = await cli('campaign', 'create', '--sample', '8', '--kernel', 'relu', '--device', deviceId, '--json');
    expect(created.code, created.out).toBe(0);
    const campaign = JSON.parse(created.stdout) as { id: string };
    await waitFor('the campaign to finish', () => c.store.getCampaign(campaign.id).state === 'done', 120_000);
    const relu = await waitFor(
      'a full-data relu predictor',
      () => c.predictors.latestPredictors(deviceId).find((p) => p.kernelType === 'relu' && p.provenance.method === 'full-data'),
      10_000,
    );
    expect(relu.kind).toBe('roofline');
    expect(c.service.pool().map((d) => d.source)).toContain(deviceId);
  });

  it('adapts a newly enrolled device on its own when configured to', async () => {
    await c.stop();
    await start({ budget: 110, target: 0.5 });
    const { token } = c.store.createEnrolmentToken();
    procs.push(agent(c.address.ws, join(dir, 'second.json'), token, 'ort-node', 1, 'disabled'));
    const second = await waitFor(
      'a second device',
      () => c.store.listDevices().find((d) => d.origin === 'agent' && d.id !== deviceId),
      90_000,
    );
    const auto = await waitFor('its adaptation', () => c.predictors.adaptations.list({ deviceId: second.id })[0], 30_000);
    expect(auto.options).toMatchObject({ budget: 110, target: 0.5 });
  });
});
