import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Coordinator } from '@litepred/coordinator';
const t0 = Date.now();
const c = await Coordinator.start({ database: '/tmp/diag.sqlite', port: 0, starterPool: '/tmp/pool1', log: (l) => console.error(l) });
while (c.pendingBuilds > 0) await new Promise((r) => setTimeout(r, 500));
console.error(`ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
for (const name of process.argv.slice(2)) {
  const bytes = new Uint8Array(gunzipSync(readFileSync(`test/model-corpus/${name}.onnx.gz`)));
  const p = c.service.predict('pool-node-t1-all', bytes);
  const byType = new Map();
  for (const k of p.kernels) { const e = byType.get(k.config.type) ?? { n: 0, ms: 0 }; e.n++; e.ms += k.predictedMs ?? 0; byType.set(k.config.type, e); }
  console.log(`${name}: predicted ${p.latencyMs.toFixed(2)} ms (overhead ${p.overheadMs.toFixed(3)}), missing ${p.missingPredictors.join(',') || '-'}`);
  for (const [t, e] of [...byType].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${t.padEnd(24)} ${String(e.n).padStart(4)}  ${e.ms.toFixed(3)} ms`);
}
await c.stop();
