// Corpus models timed end to end get weights of their own (distinct-weights.ts): checked on what
// ONNX Runtime builds from them (its optimised graph), not on timings.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decomposeModel } from '@litepred/predictor';
import { withDistinctWeights } from '../src/distinct-weights.js';

const { onnx } = onnxProto;
const corpusModel = (name: string) =>
  new Uint8Array(gunzipSync(readFileSync(new URL(`../../test/model-corpus/${name}.onnx.gz`, import.meta.url))));

/** Op counts of the graph ORT runs at opt level `all` (1 thread). */
async function optimizedOps(bytes: Uint8Array): Promise<Map<string, number>> {
  const file = join(mkdtempSync(join(tmpdir(), 'litepred-opt-')), 'optimized.onnx');
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    optimizedModelFilePath: file,
    logSeverityLevel: 3,
  });
  await session.release();
  const counts = new Map<string, number>();
  for (const n of onnx.ModelProto.decode(readFileSync(file)).graph!.node!) counts.set(n.opType!, (counts.get(n.opType!) ?? 0) + 1);
  return counts;
}

describe('withDistinctWeights', () => {
  const zero = corpusModel('mobileone_s0-224x224');
  const distinct = withDistinctWeights(zero);

  it('gives every aliased weight a tensor of its own, random and finite, and keeps the graph', () => {
    const before = onnx.ModelProto.decode(zero).graph!;
    const after = onnx.ModelProto.decode(distinct).graph!;
    const isInit = new Set(before.initializer!.map((t) => t.name));
    const aliases = before.node!.filter((n) => n.opType === 'Identity' && isInit.has(n.input![0]!)).length;
    expect(aliases).toBeGreaterThan(100);
    expect(after.node!.filter((n) => n.opType === 'Identity' && after.initializer!.some((t) => t.name === n.input![0]))).toHaveLength(0);
    expect(after.initializer!.length).toBe(before.initializer!.length + aliases);
    const conv = after.node!.find((n) => n.opType === 'Conv')!;
    const weights = after.initializer!.find((t) => t.name === conv.input![1])!;
    const values = new Float32Array(new Uint8Array(weights.rawData!).buffer);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(values.length / 2);
    expect(Buffer.from(withDistinctWeights(zero)).equals(Buffer.from(distinct))).toBe(true); // seeded: the same bytes every time
    // The same kernels: decomposition does not look at weight values.
    expect(decomposeModel(distinct).kernels.map((k) => k.config)).toEqual(decomposeModel(zero).kernels.map((k) => k.config));
  });

  it('stops ONNX Runtime merging the branches that zero weights made identical', async () => {
    const convs = (ops: Map<string, number>) => ops.get('Conv') ?? 0;
    const fromZero = await optimizedOps(zero);
    const fromDistinct = await optimizedOps(distinct);
    // 191 convs and 35 batch norms (run as convs) in the model; zero weights leave about 100 of them.
    expect(convs(fromZero)).toBeLessThan(150);
    expect(convs(fromDistinct)).toBeGreaterThanOrEqual(191);
  });
});
