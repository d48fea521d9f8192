// Real models nobody here built (test/model-corpus: 31 timm architectures, three of them at
// non-square inputs) and broken ones, through the interfaces a user has: `litepred decompose`,
// `litepred predict` and POST /api/devices/:id/predict on a coordinator with the starter pool.
// Every model is covered by kernel types (FLOPs and nodes) and no input gives a 5xx or a crash.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernelModel, buildTrivialChainModel } from '@litepred/kernels';
import { Coordinator, STARTER_POOL_DIR } from '@litepred/coordinator';
import { decomposeModel, stripWeights, type ModelPrediction } from '@litepred/predictor';
import { CLI, tempDir } from './helpers/fleet.js';

const { onnx } = onnxProto;
const CORPUS = new URL('./model-corpus/', import.meta.url);
const DEVICE = 'pool-node-t1-all';
const corpus = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.onnx.gz'))
  .sort();
const modelOf = (file: string) => gunzipSync(readFileSync(new URL(file, CORPUS)));

let dir: string;
let c: Coordinator;

beforeAll(async () => {
  dir = tempDir();
  c = await Coordinator.start({ database: join(dir, 'corpus.sqlite'), port: 0, starterPool: STARTER_POOL_DIR.pathname });
  for (const f of corpus) writeFileSync(join(dir, f.replace(/\.gz$/, '')), modelOf(f));
}, 300_000);

afterAll(async () => {
  await c?.stop();
});

/** The CLI as a process: exit code, stdout and everything printed. */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; out: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let [stdout, out] = ['', ''];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, out })));
}

/** `f` over `items`, four at a time (31 CLI processes at once starve a 2-core machine). */
async function fourAtATime<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 4) out.push(...(await Promise.all(items.slice(i, i + 4).map(f))));
  return out;
}

async function predictOverHttp(bytes: Uint8Array, query = ''): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${c.address.http}/api/devices/${DEVICE}/predict${query}`, {
    method: 'POST',
    body: new Blob([bytes]),
    headers: { 'content-type': 'application/octet-stream' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the real-architecture corpus', () => {
  it.each(corpus)('%s: kernel types cover at least 98% of its FLOPs and 95% of its compute nodes, and every kernel builds', (file) => {
    const d = decomposeModel(modelOf(file));
    expect(d.coverage.flopsShare).toBeGreaterThanOrEqual(0.98);
    expect(d.coverage.nodeShare).toBeGreaterThanOrEqual(0.95);
    for (const k of d.kernels) expect(() => buildKernelModel(k.config)).not.toThrow();
  });

  it("decomposes a model sent without its weights' values exactly as the whole model (what litepred predict sends)", () => {
    for (const file of corpus) {
      const bytes = modelOf(file);
      const stripped = stripWeights(bytes);
      expect(decomposeModel(stripped), file).toEqual(decomposeModel(bytes));
      if (bytes.length > 1e6) expect(stripped.length, file).toBeLessThan(bytes.length / 20);
    }
  });

  it('reads non-square inputs as H and W, and a model with batch norm folded as the kernels the runtime runs', () => {
    const rect = decomposeModel(modelOf('resnet18-180x320.onnx.gz'));
    expect(rect.kernels[0]!.config).toMatchObject({ type: 'conv-bn-relu', HW: 180, W: 320, KERNEL_SIZE: 7, STRIDES: 2 });
    // Exported with batch norm folded: no BatchNormalization node, yet the convs are the pool's conv-bn-relu.
    const types = new Set(decomposeModel(modelOf('resnet18-224x224.onnx.gz')).kernels.map((k) => k.config.type));
    expect(types).toEqual(new Set(['conv-bn-relu', 'conv-bn', 'maxpool', 'add-relu', 'global-avgpool', 'fc']));
    // Where the runtime does not fold it (graph optimization 'disabled'), they are what the model has.
    const unfolded = decomposeModel(modelOf('resnet18-224x224.onnx.gz'), { fusionRules: { 'conv+bn': false } });
    expect(new Set(unfolded.kernels.map((k) => k.config.type))).toContain('conv-relu');
    // ConvNeXt's permutes to channels-last and back around each layer norm are copies, kernels of their own.
    const convnext = decomposeModel(modelOf('convnext_atto-224x224.onnx.gz')).kernels.filter((k) => k.config.type === 'transpose');
    expect(convnext.length).toBe(34);
    expect(convnext[0]!.config).toEqual({ type: 'transpose', HW: 56, CIN: 40 });
  });

  it('predicts every corpus model through the HTTP API and the CLI, with no 5xx and the same coverage', async () => {
    for (const file of corpus) {
      const { status, body } = await predictOverHttp(modelOf(file));
      expect(status, `${file}: ${JSON.stringify(body).slice(0, 300)}`).toBe(200);
      const p = body as unknown as ModelPrediction;
      expect(p.coverage.flopsShare).toBeGreaterThanOrEqual(0.98);
      // Kernel types the pool has not measured are named, never counted as zero.
      for (const k of p.kernels) expect(k.predictedMs === null).toBe(p.missingPredictors.includes(k.config.type));
    }
    const viaCli = await fourAtATime(corpus, (f) =>
      cli('predict', join(dir, f.replace(/\.gz$/, '')), '--device', DEVICE, '--json', '--url', c.address.http),
    );
    viaCli.forEach((r, i) => {
      expect(r.code, `${corpus[i]}: ${r.out.slice(0, 300)}`).toBeLessThanOrEqual(1);
      expect(r.stdout, `${corpus[i]}: ${r.out.slice(0, 300)}`).toMatch(/^\{/);
      const p = JSON.parse(r.stdout) as ModelPrediction;
      expect(p.coverage.flopsShare).toBeGreaterThanOrEqual(0.98);
      expect(r.code).toBe(p.missingPredictors.length ? 1 : 0);
    });
  }, 300_000);

  it('decomposes every corpus model through the CLI', async () => {
    const runs = await fourAtATime(corpus, (f) => cli('decompose', join(dir, f.replace(/\.gz$/, '')), '--json'));
    runs.forEach((r, i) => {
      expect(r.code, `${corpus[i]}: ${r.out.slice(0, 300)}`).toBe(0);
      expect((JSON.parse(r.stdout) as { coverage: { nodeShare: number } }).coverage.nodeShare).toBeGreaterThanOrEqual(0.95);
    });
  }, 300_000);
});

/** Broken models: each must get a clear 4xx naming what is wrong (or a prediction that reports what it does not cover), never a 5xx. */
function brokenModels(): { name: string; bytes: Uint8Array; query?: string; status: number; error?: RegExp }[] {
  const good = modelOf('mobilenetv2_100-224x224.onnx.gz');
  const model = () => onnx.ModelProto.decode(good);
  const encode = (m: onnxProto.onnx.ModelProto) => onnx.ModelProto.encode(m).finish();
  const dynamic = model();
  dynamic.graph!.input![0]!.type!.tensorType!.shape!.dim![2] = { dimParam: 'height' };
  const huge = model();
  huge.graph!.input![0]!.type!.tensorType!.shape!.dim = [1, 3, 32768, 32768].map((d) => ({ dimValue: d }));
  const futureOpset = model();
  futureOpset.opsetImport = [{ domain: '', version: 99 }];
  const customOp = model();
  customOp.graph!.node!.push({
    opType: 'MysteryOp',
    domain: 'com.example',
    input: [customOp.graph!.output![0]!.name!],
    output: ['mystery'],
    name: 'mystery',
  });
  customOp.graph!.output![0]!.name = 'mystery';
  const noNodes = model();
  noNodes.graph!.node = [];
  // A convolution declaring 1e9 output channels; weights whose declared dims are 4x their data; a Split into 200,000 outputs.
  const wide = model();
  const firstWeight = () => (m: onnxProto.onnx.ModelProto) => m.graph!.initializer!.find((i) => i.dims!.length === 4)!;
  firstWeight()(wide).dims = [1e9, ...firstWeight()(wide).dims!.slice(1)];
  const short = model();
  firstWeight()(short).dims = [Number(firstWeight()(short).dims![0]) * 4, ...firstWeight()(short).dims!.slice(1)];
  const split = model();
  split.graph!.node!.push({
    opType: 'Split',
    name: 'split',
    input: [split.graph!.output![0]!.name!],
    output: Array.from({ length: 200_000 }, (_, i) => `part${i}`),
    attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
  });
  const danglingInput = model();
  danglingInput.graph!.node![70]!.input = ['no_such_tensor', ...danglingInput.graph!.node![70]!.input!.slice(1)];
  return [
    { name: 'truncated bytes', bytes: good.subarray(0, Math.floor(good.length / 3)), status: 400, error: /model: not an ONNX model/ },
    { name: 'random bytes', bytes: new Uint8Array(4096).map((_, i) => (i * 7919) % 251), status: 400, error: /model: / },
    { name: 'dynamic dims and no input shape', bytes: encode(dynamic), status: 400, error: /dynamic dims .*give --input-shape/ },
    { name: 'dynamic dims with an input shape', bytes: encode(dynamic), query: '?inputShape=1,3,160,224', status: 200 },
    {
      name: 'an input shape that contradicts the model',
      bytes: good,
      query: '?inputShape=1,3,100,100',
      status: 400,
      error: /fixes it to 224/,
    },
    { name: 'a 4 GiB declared input', bytes: encode(huge), status: 200 },
    { name: 'opset 99', bytes: encode(futureOpset), status: 200 },
    { name: 'an op of an unknown domain', bytes: encode(customOp), status: 200 },
    { name: 'no nodes', bytes: encode(noNodes), status: 400, error: /no graph nodes/ },
    { name: 'a node reading a tensor nothing produces', bytes: encode(danglingInput), status: 200 },
    { name: 'a convolution of 1e9 channels', bytes: encode(wide), status: 200 },
    { name: 'weights shorter than their declared dims', bytes: encode(short), status: 200 },
    {
      name: 'a Split into 200,000 outputs',
      bytes: encode(split),
      status: 400,
      error: /node 'split' \(Split\): splits an axis of 1000 into 200000 outputs/,
    },
  ];
}

describe('broken models', () => {
  it.each(brokenModels())('$name: HTTP $status, never a 5xx', async ({ bytes, query, status, error }) => {
    const r = await predictOverHttp(bytes, query);
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(status);
    if (error) expect(String(r.body.error)).toMatch(error);
    if (status === 200) expect((r.body as unknown as ModelPrediction).coverage).toBeDefined();
  });

  it.each(brokenModels())(
    '$name: the CLI says what is wrong and exits non-zero, or predicts',
    async ({ name, bytes, query, status, error }) => {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.onnx`);
      writeFileSync(file, bytes);
      const shape = query ? ['--input-shape', query.split('=')[1]!.replace(/,/g, 'x')] : [];
      const r = await cli('predict', file, '--device', DEVICE, '--url', c.address.http, ...shape);
      if (status === 200) {
        expect(r.out).toMatch(/coverage: /);
        expect(r.out).not.toMatch(/HTTP 5\d\d/);
      } else {
        expect(r.code).not.toBe(0);
        expect(r.out).toMatch(error!);
        expect(r.out).toMatch(/HTTP 400/);
      }
    },
  );
});

describe('large models', () => {
  it('refuses a model over the node cap with 413 before parsing it', async () => {
    const r = await predictOverHttp(buildTrivialChainModel(c.maxModelNodes + 1).bytes);
    expect(r.status).toBe(413);
    // The chain's Relus and its sink.
    expect(String(r.body.error)).toMatch(
      new RegExp(`model: ${c.maxModelNodes + 2} nodes, over this coordinator's cap of ${c.maxModelNodes} \\(maxModelNodes`),
    );
  });

  it("predicts a model of tens of thousands of nodes off the coordinator's thread: /api/health answers meanwhile", async () => {
    const big = buildTrivialChainModel(60_000).bytes;
    let predicted = 0;
    const prediction = predictOverHttp(big).then((r) => {
      predicted = performance.now();
      return r;
    });
    // Asked once the model is on its way: answered while the prediction is still being computed.
    await new Promise((r) => setTimeout(r, 50));
    const health = await fetch(`${c.address.http}/api/health`);
    const answered = performance.now();
    expect(health.status).toBe(200);
    const r = await prediction;
    expect(r.status).toBe(200);
    expect((r.body as unknown as ModelPrediction).kernels.length).toBe(60_000);
    expect(answered).toBeLessThan(predicted);
  });
});
