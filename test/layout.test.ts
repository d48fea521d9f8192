// Where ONNX Runtime reorders layouts in real networks (predictor/decompose/layout.ts), checked
// against the graph ORT itself builds at opt level `all` on this machine (its optimised model,
// serialised): the count of ReorderInput and ReorderOutput nodes. Corpus models get weights of
// their own first (zero weights let ORT merge branches: bench/src/distinct-weights.ts).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decomposeModel } from '@litepred/predictor';
import { withDistinctWeights } from '../bench/src/distinct-weights.js';

const { onnx } = onnxProto;
const dir = mkdtempSync(join(tmpdir(), 'litepred-layout-'));

async function ortReorders(bytes: Uint8Array): Promise<{ in: number; out: number }> {
  const file = join(dir, 'optimized.onnx');
  const s = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    optimizedModelFilePath: file,
    logSeverityLevel: 3,
  });
  await s.release();
  const nodes = onnx.ModelProto.decode(readFileSync(file)).graph!.node!;
  return { in: nodes.filter((n) => n.opType === 'ReorderInput').length, out: nodes.filter((n) => n.opType === 'ReorderOutput').length };
}

const corpus = (name: string) => new Uint8Array(gunzipSync(readFileSync(new URL(`./model-corpus/${name}.onnx.gz`, import.meta.url))));

// Plain CNNs (one reorder: the output), grouped convs, SE blocks, ghost modules, conv+transformer.
// (Not exact yet, and left out: convnext_atto, edgenext, efficientnet_b0, efficientvit, mixnet_s,
// tinynet_a, regnety_004, mobilenetv2_050, mobilenetv3_small: within a few reorders of ORT's, the
// gaps in how ORT treats an add whose inputs differ in layout and a few fused activations.)
const EXACT = [
  'resnet18-224x224',
  'mobilenetv2_100-224x224',
  'regnetx_004-224x224',
  'mobilenetv3_large_100-224x224',
  'ghostnet_100-224x224',
  'hardcorenas_a-224x224',
  'lcnet_100-224x224',
  'mobilevit_xxs-256x256',
  'mobileone_s0-224x224',
  'vit_tiny_patch16_224-224x224',
];

// The NCHWc transformer runs on x86 CPUs with AVX2 or AVX-512 only; elsewhere ORT reorders nothing.
const nchwc = (await ortReorders(withDistinctWeights(corpus('resnet18-224x224')))).out > 0;

describe.skipIf(!nchwc)("NCHWc reorders (this CPU runs ONNX Runtime's NCHWc transformer)", () => {
  it.each(EXACT)('%s: as many as ONNX Runtime puts in', async (name) => {
    const bytes = corpus(name);
    const mine = decomposeModel(bytes).reorders;
    const theirs = await ortReorders(withDistinctWeights(bytes));
    expect({ in: mine.filter((r) => r.kind === 'in').length, out: mine.filter((r) => r.kind === 'out').length }).toEqual(theirs);
    expect(mine.every((r) => r.bytes > 0)).toBe(true);
  });
});
