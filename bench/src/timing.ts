// npm run bench:timing -- --help
// Can the profiler's numbers be trusted? Test-retest agreement, overhead against a bare loop,
// memory over thousands of kernels, and whether kernel latencies add up to network latencies.
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { buildKernelModel, buildNetworkModel, isKernelLayer, kernelCost, type KernelConfig } from '@litepred/kernels';
import { rng, sampleNetworks, type NetworkDef } from '@litepred/spaces';
import { KernelProfiler, measureInRounds, REFERENCE_KERNEL, type Measurement } from '@litepred/profiler';
import { benchArgs } from './args.js';
import { median, pct, Report } from './report.js';

const ARGS = benchArgs(
  'npm run bench:timing --',
  "Can the profiler's numbers be trusted? Test-retest agreement, overhead, memory, composition.",
  {
    parts: { default: 'calibration,labels,retest,overhead,memory,composition', describe: 'parts to run, comma-separated' },
    networks: { default: 21, describe: 'networks for the composition part' },
  },
);
const parts = new Set(ARGS.parts.split(','));
const networkCount = ARGS.networks;
/** Rounds per kernel in the retest's rounds rows (protocol.rounds). */
const ROUNDS = 3;

/** Distinct kernels of sampled MobileNetV2/V3 and ResNet stacks, shuffled: realistic configs of every size. */
function sampledKernels(n: number, seed = 7): KernelConfig[] {
  const seen = new Map<string, KernelConfig>();
  for (const net of sampleNetworks(60, seed))
    for (const l of net.layers.filter(isKernelLayer)) seen.set(JSON.stringify(l.config), l.config);
  const all = [...seen.values()];
  const r = rng(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, n);
}

/** Relative difference of two measurements; two zeros agree. */
const relDiff = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / ((a + b) / 2));

// A run of some parts writes a report of its own (timing-labels.md, ...), leaving the full run's in place.
const ALL_PARTS = ['calibration', 'labels', 'retest', 'overhead', 'memory', 'composition'];
const report = new Report(
  ALL_PARTS.every((p) => parts.has(p)) ? 'timing' : `timing-${[...parts].join('-')}`,
  'Timing benchmark: can the kernel measurements be trusted?',
  `npm run bench:timing -- ${process.argv.slice(2).join(' ')}`.trim(),
);
report.text(
  'Runtime: onnxruntime-node 1.30.0, CPU EP, 1 intra-op thread, graph optimization `all` unless a section says otherwise. ' +
    "Kernel latency = the kernel's in-model time: on onnxruntime-node the per-run sum of the kernel's own nodes in ORT's " +
    'per-node profile ' +
    "(layout reorders at the standalone model's edges and the output sink are recorded apart); on onnxruntime-web (wasm) " +
    'the paired difference ' +
    'between the kernel model and a null model with the same inputs.',
);

async function calibration(): Promise<void> {
  report.text('## 0. Calibration on this machine');
  const rows: (string | number)[][] = [];
  for (const backend of ['ort-node', 'ort-web'] as const) {
    const p = await KernelProfiler.create({ runtime: { backend } });
    rows.push([
      backend,
      p.method,
      p.method === 'node-profile' ? p.nodeOverheadUs.toFixed(2) : '-',
      p.coldWeightMsPerByte > 0 ? (1 / p.coldWeightMsPerByte / 1e6).toFixed(1) : 'no measurable cost',
    ]);
  }
  report.text(
    "What the profiler calibrates when it starts: the cost ORT's per-node profiler adds to every node's duration (profiled " +
      'duration per node of a 41-node chain of one-element Relus, minus the unprofiled wall-time slope of the same ' +
      'chain), and the cost of weights ' +
      'that come from memory rather than cache (a conv with 5.3 MB of weights on a 4x4 input, timed hot and after a 64 ' +
      'MB in-graph cache scrub), ' +
      'given as the bandwidth it amounts to.',
  );
  report.table(['backend', 'method', 'profiler cost per node µs', 'cold weights as GB/s'], rows);
}

/**
 * Labels of kernels near the timer's resolution: each kernel measured twice by a profiler that
 * labels it from one copy (ORT's node profile, as the starter pool was measured) and twice by one
 * that times copies of a small kernel end to end against a null model (replication; the default),
 * interleaved (single, replicated, single, replicated), test-retest by size.
 */
async function labels(): Promise<void> {
  const kernels = sampledKernels(200, 11);
  const single = await KernelProfiler.create({ replicationSpanMs: 0 });
  const replicated = await KernelProfiler.create({ coldWeightMsPerByte: single.coldWeightMsPerByte });
  const rows: { s: [number, number]; r: [number, number]; copies: number; ms: [number, number] }[] = [];
  for (const [i, k] of kernels.entries()) {
    const t: number[] = [];
    const m: Measurement[] = [];
    for (const p of [single, replicated, single, replicated]) {
      const t0 = performance.now();
      m.push(await p.measure(k));
      t.push(performance.now() - t0);
    }
    rows.push({
      s: [m[0]!.latencyMs, m[2]!.latencyMs],
      r: [m[1]!.latencyMs, m[3]!.latencyMs],
      copies: m[1]!.copies ?? 1,
      ms: [t[0]! + t[2]!, t[1]! + t[3]!],
    });
    process.stderr.write(`labels ${i + 1}/${kernels.length}\r`);
  }
  report.text('## Labels of small kernels: one copy vs replicated');
  report.text(
    `${kernels.length} distinct kernels of sampled MobileNetV2/V3- and ResNet-style networks (seed 11), each measured ` +
      `four times, interleaved: ` +
      "one copy (ORT's node profile, as the starter pool was measured: `replicationSpanMs: 0`), replicated (the default: " +
      'a kernel under 100 µs is timed again as enough copies ' +
      "of itself in one model, chained where its output has its input's shape, to span 100 µs, end to end against a null " +
      'model with the same inputs, per copy), one copy, replicated. ' +
      'Size bucket by the larger of the first single and the first replicated label. Agreement = |a − b| / mean(a, b); two zeros agree.',
  );
  const buckets: [string, number, number][] = [
    ['under 10 µs', 0, 0.01],
    ['10–100 µs', 0.01, 0.1],
    ['over 100 µs', 0.1, Infinity],
  ];
  const share = (xs: typeof rows, f: (x: (typeof rows)[number]) => boolean) => (xs.length ? pct(xs.filter(f).length / xs.length) : '-');
  report.table(
    [
      'kernels',
      'count',
      'one copy: within ±5%',
      'within ±10%',
      'replicated: within ±5%',
      'within ±10%',
      'labels of 0 (one copy / replicated)',
      'median copies',
      'replicated / one copy, median',
      'measuring time, replicated / one copy',
    ],
    buckets.map(([label, lo, hi]) => {
      const xs = rows.filter((x) => {
        const v = Math.max(x.s[0], x.r[0]);
        return v >= lo && v < hi;
      });
      const zeros = (k: 's' | 'r') => xs.filter((x) => x[k][0] === 0 || x[k][1] === 0).length;
      return [
        label,
        xs.length,
        share(xs, (x) => relDiff(...x.s) <= 0.05),
        share(xs, (x) => relDiff(...x.s) <= 0.1),
        share(xs, (x) => relDiff(...x.r) <= 0.05),
        share(xs, (x) => relDiff(...x.r) <= 0.1),
        `${zeros('s')} / ${zeros('r')}`,
        xs.length ? median(xs.map((x) => x.copies)) : '-',
        xs.length ? median(xs.map((x) => (x.r[0] + x.r[1]) / Math.max(1e-9, x.s[0] + x.s[1]))).toFixed(3) : '-',
        xs.length ? (median(xs.map((x) => x.ms[1])) / median(xs.map((x) => x.ms[0]))).toFixed(2) : '-',
      ];
    }),
  );
}

async function retest(): Promise<void> {
  const kernels = sampledKernels(200);
  const profiler = await KernelProfiler.create();
  const a: Measurement[] = [];
  const b: Measurement[] = [];
  // The drift checker's fixed reference kernel, measured right before every kernel of both passes:
  // how far this machine's own speed moves between the two measurements of a pair.
  const refA: Measurement[] = [];
  const refB: Measurement[] = [];
  // Interleaved in blocks of 20: the A pass of a block, then its B pass, so drift hits both alike.
  for (let i = 0; i < kernels.length; i += 20) {
    const block = kernels.slice(i, i + 20);
    for (const [pass, refs] of [
      [a, refA],
      [b, refB],
    ] as const) {
      for (const k of block) {
        refs.push(await profiler.measure(REFERENCE_KERNEL));
        pass.push(await profiler.measure(k));
      }
    }
    process.stderr.write(`retest ${Math.min(i + 20, kernels.length)}/${kernels.length}\r`);
  }
  // The same kernels measured in rounds (protocol.rounds, as an agent measures a lease): each block
  // of 20 three times round-robin, 10 timed runs a round (30 in all, as one default measurement),
  // the fastest round kept; A pass then B pass per block, as above.
  const roundsA: Measurement[] = [];
  const roundsB: Measurement[] = [];
  for (let i = 0; i < kernels.length; i += 20) {
    const block = kernels.slice(i, i + 20);
    for (const pass of [roundsA, roundsB]) {
      for (const item of await measureInRounds(profiler, block, ROUNDS, { minRuns: 10 })) pass.push(item.measurement!);
    }
    process.stderr.write(`retest in rounds ${Math.min(i + 20, kernels.length)}/${kernels.length}\r`);
  }
  report.text('## 1. Test-retest agreement');
  report.text(
    `${kernels.length} distinct kernels sampled from 60 MobileNetV2/V3- and ResNet-style networks, each measured twice, ` +
      'interleaved in blocks of 20 (block A pass, then block B pass), each kernel measurement right after one of the ' +
      'fixed reference kernel. ' +
      "Agreement = |a − b| / mean(a, b). The median is interpolated within the 1 µs step of ORT's profile (quantizedMedian). " +
      `The rows "fastest of ${ROUNDS} rounds" measure the same kernels again with \`rounds: ${ROUNDS}\` (as an agent ` +
      `measures a lease with that protocol): ` +
      `each block of 20 measured ${ROUNDS} times round-robin with 10 timed runs a round (the same 30 timed runs as one ` +
      `default measurement, with ${ROUNDS} times the sessions and warm-ups), ` +
      'the fastest round kept, A pass then B pass per block.',
  );
  const bigEnough = (i: number) => a[i]!.kernel.median >= 0.02;
  const small = a.filter((m) => m.kernel.median < 0.02).length;
  /** Share of kernels whose two values (pass A's, pass B's) agree within tol, over those `keep` selects. */
  const agree = (x: (i: number) => number, y: (i: number) => number, tol: number, keep = (_: number) => true) => {
    const idx = kernels.map((_, i) => i).filter(keep);
    return pct(idx.filter((i) => relDiff(x(i), y(i)) <= tol).length / idx.length);
  };
  const rowPair = (label: string, x: (i: number) => number, y: (i: number) => number) => [
    [label, 'all', kernels.length, agree(x, y, 0.05), agree(x, y, 0.1)],
    [label, '≥ 20 µs', kernels.length - small, agree(x, y, 0.05, bigEnough), agree(x, y, 0.1, bigEnough)],
  ];
  const st = profiler.statistic;
  const rows: (string | number)[][] = [];
  for (const stat of ['median', 'iqm', 'q1mean', 'min'] as const) {
    rows.push(
      ...rowPair(
        stat + (stat === st ? ' (default)' : ''),
        (i) => a[i]!.kernel[stat],
        (i) => b[i]!.kernel[stat],
      ),
    );
  }
  rows.push(
    ...rowPair(
      `${st}, fastest of ${ROUNDS} rounds of 10 runs`,
      (i) => roundsA[i]!.kernel[st],
      (i) => roundsB[i]!.kernel[st],
    ),
  );
  const ref = (refs: Measurement[]) => (i: number) => refs[i]!.kernel[st];
  rows.push([
    `reference kernel, ${st}`,
    'the same config each time',
    refA.length,
    agree(ref(refA), ref(refB), 0.05),
    agree(ref(refA), ref(refB), 0.1),
  ]);
  rows.push(
    ...rowPair(
      `${st} ÷ reference's`,
      (i) => a[i]!.kernel[st] / refA[i]!.kernel[st],
      (i) => b[i]!.kernel[st] / refB[i]!.kernel[st],
    ),
  );
  report.table(['statistic', 'kernels', 'count', 'within ±5%', 'within ±10%'], rows);
  const refMs = [...refA, ...refB].map((r) => r.kernel[st]).sort((x, y) => x - y);
  report.text(
    `The reference kernel (${JSON.stringify(REFERENCE_KERNEL)}) ranged ${refMs[0]!.toFixed(4)}–${refMs[refMs.length - 1]!.toFixed(4)} ms ` +
      `over the ${refMs.length} measurements (median ${median(refMs).toFixed(4)}): a pair of its own measurements that ` +
      `disagree is the machine, ` +
      'not the kernel. Normalized rows divide each kernel by the reference measured right before it.',
  );
  // The same kernels again, A and B straight after each other: what is left is the session-to-session variance.
  const b2b = kernels.slice(0, 60);
  const x: number[] = [];
  for (const k of b2b) {
    const m1 = await profiler.measure(k);
    const m2 = await profiler.measure(k);
    x.push(relDiff(m1.kernel[st], m2.kernel[st]));
  }
  const big = b2b.map((_, i) => i).filter((i) => a[i]!.kernel.median >= 0.02);
  const w = (idx: number[], tol: number) => pct(idx.filter((i) => x[i]! <= tol).length / idx.length);
  const allIdx = b2b.map((_, i) => i);
  report.text(`The first 60 of them again, A and B back to back (two sessions, one straight after the other), ${st}:`);
  report.table(
    ['kernels', 'count', 'within ±5%', 'within ±10%'],
    [
      ['all', allIdx.length, w(allIdx, 0.05), w(allIdx, 0.1)],
      ['≥ 20 µs', big.length, w(big, 0.05), w(big, 0.1)],
    ],
  );
  const worst = a
    .map((m, i) => ({ m, d: relDiff(m.kernel[st], b[i]!.kernel[st]), bi: b[i]! }))
    .sort((x, y) => y.d - x.d)
    .slice(0, 5);
  report.table(
    ['worst pairs', `A ${st} ms`, `B ${st} ms`, 'difference'],
    worst.map((w) => [JSON.stringify(w.m.config), w.m.kernel[st], w.bi.kernel[st], pct(w.d)]),
  );
}

async function overhead(): Promise<void> {
  const kernels = sampledKernels(60, 11);
  const profiler = await KernelProfiler.create();
  const ratios: number[] = [];
  /** Each kernel's time per run beside its ratio: its nodes, reorders and sink (ms, from the profiler's measurement). */
  const perRunMs: number[] = [];
  let profTotal = 0;
  let bareTotal = 0;
  for (const k of kernels) {
    const t0 = performance.now();
    const m = await profiler.measure(k);
    const t1 = performance.now();
    // The bare loop: the same model, a plain session, the same number of session.run calls.
    const model = buildKernelModel(k);
    const session = await ort.InferenceSession.create(model.bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const feeds = Object.fromEntries(
      model.inputs.map((i) => [
        i.name,
        new ort.Tensor('float32', new Float32Array(i.shape.reduce((x, y) => x * y, 1)).fill(0.5), [...i.shape]),
      ]),
    );
    for (let r = 0; r < m.warmupRuns + m.kernel.n; r++) await session.run(feeds);
    await session.release();
    const t2 = performance.now();
    ratios.push((t1 - t0) / (t2 - t1));
    perRunMs.push(m.kernel.median + m.boundary.reorderInMs + m.boundary.reorderOutMs + m.boundary.sinkMs);
    profTotal += t1 - t0;
    bareTotal += t2 - t1;
  }
  report.text('## 2. Overhead against a bare loop');
  report.text(
    `${kernels.length} sampled kernels. For each, the profiler's whole \`measure()\` (model build, session with ORT ` +
      `profiling, warm-up, timed runs, ` +
      'profile parsing, release), then, right after it, a bare loop: the same model bytes built again, a plain session, ' +
      'the same number of `session.run` ' +
      'calls (warm-up + timed), release. Target ≤ 1.10x.',
  );
  report.table(
    ['measure', 'value'],
    [
      ['median per-kernel ratio profiler / bare', `${median(ratios).toFixed(3)}x`],
      ['total ratio (all kernels)', `${(profTotal / bareTotal).toFixed(3)}x`],
      ['p90 per-kernel ratio', `${[...ratios].sort((x, y) => x - y)[Math.floor(ratios.length * 0.9)]!.toFixed(3)}x`],
    ],
  );
  // ORT's per-node profile costs a few µs per node per run whatever the kernel: what it adds is a
  // share of a small kernel's run and a rounding error of a large one's.
  const bySize = (lo: number, hi: number) => ratios.filter((_, i) => perRunMs[i]! >= lo && perRunMs[i]! < hi);
  report.text("The same ratios by the kernel's time per run (its nodes, reorders and sink, from the profiler's measurement):");
  report.table(
    ['kernel time per run', 'kernels', 'median ratio', 'within 1.10x'],
    [
      [0, 0.05],
      [0.05, 0.2],
      [0.2, 1],
      [1, Infinity],
    ].map(([lo, hi]) => {
      const r = bySize(lo!, hi!);
      return [
        hi === Infinity ? `≥ ${lo} ms` : `${lo}–${hi} ms`,
        r.length,
        r.length ? `${median(r).toFixed(3)}x` : '-',
        r.length ? `${r.filter((x) => x <= 1.1).length}` : '-',
      ];
    }),
  );
}

async function memory(): Promise<void> {
  const kernels = sampledKernels(400, 13);
  const profiler = await KernelProfiler.create({ protocol: { warmupRuns: 3, warmupMs: 0, minRuns: 10, maxRuns: 20, maxMs: 100 } });
  const rows: (string | number)[][] = [];
  const marks = new Set([100, 500, 1000, 1500, 2000]);
  let at100 = 0;
  for (let i = 1; i <= 2000; i++) {
    await profiler.measure(kernels[i % kernels.length]!);
    if (marks.has(i)) {
      const rss = process.memoryUsage().rss / 2 ** 20;
      if (i === 100) at100 = rss;
      rows.push([i, rss.toFixed(0), (rss / at100).toFixed(3)]);
      process.stderr.write(`memory ${i}/2000\r`);
    }
  }
  report.text('## 3. Memory over 2,000 kernels');
  report.text(
    '2,000 measurements (400 distinct sampled kernels, cycled; short protocol: 3 warm-up and 10–20 timed runs) in one ' +
      'process, one session per kernel, each released.',
  );
  report.table(['kernels measured', 'RSS MiB', 'RSS / RSS at 100'], rows);
}

type Stat = 'median' | 'min';
const STATS: Stat[] = ['median', 'min'];
interface CompositionRow {
  net: NetworkDef;
  weightMiB: number;
  e2eBefore: Record<Stat, number>;
  e2eAfter: Record<Stat, number>;
  predicted: Record<Stat, number>;
}

async function composition(backend: 'ort-node' | 'ort-web', networks: NetworkDef[]): Promise<CompositionRow[]> {
  const profiler = await KernelProfiler.create({ runtime: { backend } });
  const rows: CompositionRow[] = [];
  for (const [n, net] of networks.entries()) {
    // This machine's speed drifts by tens of percent over minutes: each network's kernels are
    // measured right between two end-to-end measurements of it, never reused from another network.
    const model = buildNetworkModel(net.layers, net.inputShape);
    const before = await profiler.measureModel(model);
    const ms: Measurement[] = [];
    for (const l of net.layers.filter(isKernelLayer)) ms.push(await profiler.measure(l.config));
    const after = await profiler.measureModel(model);
    const overhead = await profiler.measureRunOverhead([net.inputShape]);
    // What the network pays once: the run itself, the layout reorder where its input enters and
    // where its output leaves.
    const edges = ms[0]!.boundary.reorderInMs + ms[ms.length - 1]!.boundary.reorderOutMs;
    const predicted = (stat: Stat) => ms.reduce((s, m) => s + m.kernel[stat] + m.boundary.coldWeightsMs, 0) + overhead[stat] + edges;
    const pick = (s: typeof before) => ({ median: s.median, min: s.min });
    rows.push({
      net,
      weightMiB: net.layers.filter(isKernelLayer).reduce((s, l) => s + 4 * kernelCost(l.config).params, 0) / 2 ** 20,
      e2eBefore: pick(before),
      e2eAfter: pick(after),
      predicted: { median: predicted('median'), min: predicted('min') },
    });
    process.stderr.write(`composition ${backend} ${n + 1}/${networks.length}\r`);
  }
  return rows;
}

async function compositionBoth(): Promise<void> {
  const networks = sampleNetworks(networkCount, 3);
  report.text('## 4. Composition: kernels against whole networks');
  report.text(
    `${networks.length} networks (MobileNetV2-, MobileNetV3- and ResNet-style, random resolution, width, depth, kernel ` +
      `sizes and expansion), ` +
      'built from the same kernel emitters and ending at global average pooling. Each network is timed end to end ' +
      '(unprofiled, output copied out), ' +
      'then its kernels, then end to end again; the error is against the mean of the two. Predicted = Σ (kernel ' +
      'statistic + cold-weight term) + ' +
      "the statistic of a null model with the network's input (the run itself) + the first kernel's input reorder and " +
      "the last kernel's output reorder. " +
      'Both statistics come from the same measurements: the median (the default) and the minimum.',
  );
  for (const backend of ['ort-node', 'ort-web'] as const) {
    const rows = await composition(backend, networks);
    const err = (r: CompositionRow, s: Stat) => r.predicted[s] / ((r.e2eBefore[s] + r.e2eAfter[s]) / 2) - 1;
    report.text(`### ${backend}`);
    report.table(
      ['network', 'layers', 'weights MiB', 'median before ms', 'median after ms', 'predicted ms', 'error (median)', 'error (min)'],
      rows.map((r) => [
        r.net.name,
        r.net.layers.length,
        r.weightMiB.toFixed(1),
        r.e2eBefore.median,
        r.e2eAfter.median,
        r.predicted.median,
        `${(100 * err(r, 'median')).toFixed(1)}%`,
        `${(100 * err(r, 'min')).toFixed(1)}%`,
      ]),
    );
    const summary = STATS.map((s) => {
      const e = rows.map((r) => Math.abs(err(r, s)));
      const within = (tol: number) => e.filter((x) => x <= tol).length;
      return [
        s,
        `${within(0.05)}/${rows.length}`,
        `${within(0.1)}/${rows.length}`,
        pct(median(e)),
        pct(Math.max(...e)),
        pct(median(rows.map((r) => r.e2eAfter[s] / r.e2eBefore[s] - 1))),
      ] as (string | number)[];
    });
    report.table(
      ['statistic', 'within ±5%', 'within ±10%', 'median |error|', 'max |error|', 'median end-to-end after/before − 1'],
      summary,
    );
  }
}

if (parts.has('calibration')) await calibration();
if (parts.has('labels')) await labels();
if (parts.has('retest')) await retest();
if (parts.has('overhead')) await overhead();
if (parts.has('memory')) await memory();
if (parts.has('composition')) await compositionBoth();
report.write();
