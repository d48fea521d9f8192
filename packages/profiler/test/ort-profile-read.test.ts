import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildKernelModel } from '@litepred/kernels';
import { parseOrtProfile, readOrtTraceEvents, scanOrtTraceLines } from '@litepred/profiler';

const dir = mkdtempSync(join(tmpdir(), 'litepred-profread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real profile from onnxruntime-node: an SE block (several node types) run a few times. */
async function realProfile(): Promise<string> {
  const model = buildKernelModel({ type: 'se', HW: 7, CIN: 96 });
  const session = await ort.InferenceSession.create(model.bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    enableProfiling: true,
    profileFilePrefix: join(dir, 'se'),
    logSeverityLevel: 3,
  });
  const feeds = Object.fromEntries(
    model.inputs.map((i) => [i.name, new ort.Tensor('float32', new Float32Array(i.shape.reduce((a, b) => a * b, 1)), [...i.shape])]),
  );
  for (let r = 0; r < 5; r++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const [file] = readdirSync(dir).filter((f) => f.startsWith('se_'));
  return readFileSync(join(dir, file!), 'utf8');
}

describe('reading ORT profiles', () => {
  it('reads a real onnxruntime-node profile line by line, to the same runs as JSON.parse', async () => {
    const text = await realProfile();
    const scanned = scanOrtTraceLines(text);
    expect(scanned, 'the line layout of this onnxruntime-node profile').toBeDefined();
    const full = parseOrtProfile(JSON.parse(text));
    expect(parseOrtProfile(scanned!)).toEqual(full);
    expect(full).toHaveLength(5);
    expect(full[0]!.nodes.map((n) => n.op)).toContain('GlobalAveragePool');
  });

  it('falls back to JSON.parse when a line is not in that layout', () => {
    const odd = JSON.stringify(
      [
        { name: 'model_run', cat: 'Session', ts: 10, dur: 50 },
        { name: 'conv_kernel_time', cat: 'Node', ts: 12, dur: 30, args: { op_name: 'Conv' } },
      ],
      null,
      1,
    );
    expect(scanOrtTraceLines(odd)).toBeUndefined();
    expect(parseOrtProfile(readOrtTraceEvents(odd))).toEqual([{ runUs: 50, nodes: [{ name: 'conv', op: 'Conv', us: 30 }] }]);
  });
});
