// The shape of the code, checked (npm run check:deps; a test runs it): no import circles, type-only
// imports included, and the layers point one way: packages/ under agent/, web/ and coordinator/,
// cli/ on top, bench/ beside, nothing under test/ or bench/ imported by the product.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import circle: split the shared part into a module of its own',
      from: {},
      to: { circular: true },
    },
    {
      name: 'packages-stay-below',
      severity: 'error',
      comment: 'packages/ is the bottom layer',
      from: { path: '^packages/' },
      to: { path: '^(agent|web|coordinator|cli|bench|test)/' },
    },
    {
      name: 'apps-below-cli',
      severity: 'error',
      comment: 'agent/, web/ and coordinator/ sit under cli/ and beside bench/',
      from: { path: '^(agent|web|coordinator)/' },
      to: { path: '^(cli|bench|test)/' },
    },
    {
      name: 'agent-stays-alone',
      severity: 'error',
      comment: 'the agent runs on a board: it needs neither the coordinator nor the web bundle',
      from: { path: '^agent/' },
      to: { path: '^(coordinator|web)/' },
    },
    {
      name: 'resolvable',
      severity: 'error',
      comment: 'an import that resolves to nothing (is everything built?)',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'cli-not-bench',
      severity: 'error',
      comment: 'bench/ is beside the product, never under it',
      from: { path: '^cli/' },
      to: { path: '^(bench|test)/' },
    },
  ],
  options: {
    // Type-only imports count: a circle of types is still a circle for whoever reads the code.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: ['node_modules', '/dist/'] },
    exclude: { path: ['\\.d\\.ts$'] },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
