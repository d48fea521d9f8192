// `litepred decompose MODEL.onnx`: the kernels a model runs as, and what no kernel covers.
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { kernelCost } from '@litepred/kernels';
import { decomposeModel } from '@litepred/predictor';
import { formatTable } from '../table.js';

interface DecomposeArgs {
  model: string;
  'input-shape'?: string;
  json: boolean;
}

export function parseShape(text: string): number[] {
  const dims = text.split(/[x,]/).map((d) => Number(d.trim()));
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 1))
    throw new Error(`--input-shape must be positive integers like 1x3x224x224 (got '${text}')`);
  return dims;
}

export const decomposeCommand: CommandModule<object, DecomposeArgs> = {
  command: 'decompose <model>',
  describe: 'split an ONNX model into the kernels a predictor sees, with a coverage report',
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'an .onnx file' })
      .option('input-shape', { type: 'string', describe: 'input shape where the model leaves dims dynamic, e.g. 1x3x224x224' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  handler: async (a) => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(a.model);
    } catch (e) {
      throw new Error(`cannot read ${a.model}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    const d = decomposeModel(bytes, a['input-shape'] ? { inputShape: parseShape(a['input-shape']) } : {});
    if (a.json) return console.log(JSON.stringify(d));
    const byType = new Map<string, { count: number; mflops: number }>();
    for (const k of d.kernels) {
      const e = byType.get(k.config.type) ?? { count: 0, mflops: 0 };
      e.count++;
      e.mflops += kernelCost(k.config).flops / 1e6;
      byType.set(k.config.type, e);
    }
    console.log(
      formatTable(
        ['kernel type', 'kernels', 'MFLOPs'],
        [...byType].map(([t, e]) => [t, e.count, e.mflops.toFixed(1)]),
      ),
    );
    const glue =
      Object.entries(d.coverage.glue)
        .map(([op, n]) => `${op} x${n}`)
        .join(', ') || 'none';
    console.log(
      `\n${d.kernels.length} kernels covering ${(100 * d.coverage.flopsShare).toFixed(1)}% of the FLOPs ` +
        `and ${(100 * d.coverage.nodeShare).toFixed(1)}% of the compute nodes; glue (no latency ` +
        `term): ${glue}; ${d.coverage.folded} nodes folded at load`,
    );
    for (const u of d.coverage.unsupported)
      console.log(
        `not covered: ${u.op} x${u.count} (${(u.flops / 1e6).toFixed(1)} MFLOPs)${u.reasons.length ? `: ${u.reasons.join('; ')}` : ''}`,
      );
    if (d.coverage.guessedShapes.length)
      console.log(`shapes not inferred for: ${d.coverage.guessedShapes.join(', ')} (taken from the model or guessed)`);
  },
};
