#!/usr/bin/env node
// The standalone agent: dist/standalone-main.js and every @litepred package it uses bundled with
// esbuild into one file, in a package whose only dependencies are ws and onnxruntime-node (nothing
// compiles at install), packed with `npm pack` into standalone/litepred-agent-<version>.tgz for the
// coordinator to serve (/downloads/, /install.sh).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const { STANDALONE_NAME, STANDALONE_VERSION } = await import('./dist/standalone.js');
const { PROTOCOL_VERSION } = await import('@litepred/protocol');
const require = createRequire(import.meta.url);
const installedVersion = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
const out = here('./standalone');
const pkg = `${out}/package`;
rmSync(out, { recursive: true, force: true });
mkdirSync(pkg, { recursive: true });

await build({
  entryPoints: [here('./dist/standalone-main.js')],
  outfile: `${pkg}/${STANDALONE_NAME}.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // onnxruntime-node and ws are installed beside it; onnxruntime-web is never loaded (ort-node only).
  external: ['ws', 'onnxruntime-node', 'onnxruntime-web', 'onnxruntime-web/*'],
  // Bundled CommonJS (protobufjs) calls require(): give the ES module one.
  banner: {
    js:
      "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = " +
      '__createRequire(import.meta.url);',
  },
  logLevel: 'warning',
});

writeFileSync(
  `${pkg}/package.json`,
  JSON.stringify(
    {
      name: STANDALONE_NAME,
      version: STANDALONE_VERSION,
      description: 'The litepred agent: puts this machine in a litepred fleet and profiles kernels with onnxruntime-node',
      type: 'module',
      bin: { [STANDALONE_NAME]: `${STANDALONE_NAME}.mjs` },
      engines: { node: '>=20' },
      // The versions this build was made and tested with, exactly.
      dependencies: { ws: installedVersion('ws'), 'onnxruntime-node': installedVersion('onnxruntime-node') },
      license: 'MIT',
      litepred: { protocol: PROTOCOL_VERSION },
    },
    null,
    2,
  ) + '\n',
);
writeFileSync(
  `${pkg}/README.md`,
  `# ${STANDALONE_NAME}\n\nThe litepred agent, installed by a coordinator's \`/install.sh\`. \`${STANDALONE_NAME} ` +
    `--help\` says what it does.\n` +
    'Runs on what onnxruntime-node ships binaries for (linux x64 and arm64, macOS arm64, Windows x64), with Node 20 or newer.\n',
);
execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: pkg, stdio: ['ignore', 'ignore', 'inherit'] });
console.log(`agent: packed ${out}/${STANDALONE_NAME}-${STANDALONE_VERSION}.tgz`);
