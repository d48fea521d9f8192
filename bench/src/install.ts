// npm run bench:install -- --help
// Issue 18's install targets: the one line a board runs (`curl .../install.sh | sh -s -- --token ...`),
// against a coordinator on loopback, into a fresh directory with a HOME of its own and npm's cache
// of this machine (warm): wall time to installed and enrolled, and the size on disk, with and
// without onnxruntime-node's binaries. Writes docs/benchmarks/install.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Coordinator } from '@litepred/coordinator';
import { benchArgs } from './args.js';
import { median, Report } from './report.js';

const ARGS = benchArgs('npm run bench:install --', "Time the board install from the coordinator's one line, and its size on disk.", {
  runs: { default: 3, describe: 'installs, each into a fresh directory' },
});

const megabytes = (path: string) => Number(execFileSync('du', ['-sm', path], { encoding: 'utf8' }).split('\t')[0]);
const c = await Coordinator.start({ database: join(mkdtempSync(join(tmpdir(), 'litepred-bench-install-')), 'db.sqlite'), port: 0 });
const rows: (string | number)[][] = [];
const seconds: number[] = [];
try {
  for (let run = 1; run <= ARGS.runs; run++) {
    const dir = join(mkdtempSync(join(tmpdir(), 'litepred-board-')), 'agent');
    const { token } = c.store.createEnrolmentToken();
    const line = `curl -fsSL ${c.address.http}/install.sh | sh -s -- --token ${token} --dir ${dir} --no-start`;
    const env = { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'litepred-home-')), npm_config_cache: join(homedir(), '.npm') };
    const t = performance.now();
    const code = await new Promise<number | null>((resolve) => spawn('sh', ['-c', line], { stdio: 'ignore', env }).on('exit', resolve));
    const s = (performance.now() - t) / 1000;
    if (code !== 0) throw new Error(`install ${run} exited with ${code}`);
    seconds.push(s);
    const [total, ort] = [megabytes(dir), megabytes(join(dir, 'node_modules/onnxruntime-node'))];
    rows.push([run, s.toFixed(1), total, ort, total - ort]);
    process.stderr.write(`install ${run}: ${s.toFixed(1)} s\n`);
  }
} finally {
  await c.stop();
}
const report = new Report('install', 'Board install: the one line, timed', `npm run bench:install -- --runs ${ARGS.runs}`);
report.text(
  `The line \`litepred token create\` prints, run with sh against a coordinator on loopback: install.sh downloads the ` +
    `standalone agent package from the coordinator, npm installs it (npm's cache of this machine, warm after the first ` +
    `run of the suite or this bench) and the agent enrols. Targets (issue 18): at most 60 s, and at most 40 MB on disk ` +
    `besides onnxruntime-node. Median ${median(seconds).toFixed(1)} s.`,
);
report.table(['run', 'seconds to installed and enrolled', 'MB on disk', 'of which onnxruntime-node', 'MB besides it'], rows);
report.write();
