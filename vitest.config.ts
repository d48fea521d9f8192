import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@litepred/kernels': src('./packages/kernels/src/index.ts'),
      '@litepred/profiler': src('./packages/profiler/src/index.ts'),
      '@litepred/nn': src('./packages/nn/src/index.ts'),
      '@litepred/spaces': src('./packages/spaces/src/index.ts'),
      '@litepred/sampler': src('./packages/sampler/src/index.ts'),
      '@litepred/predictor': src('./packages/predictor/src/index.ts'),
      '@litepred/protocol': src('./packages/protocol/src/index.ts'),
      '@litepred/agent-core': src('./packages/agent-core/src/index.ts'),
      '@litepred/agent/standalone': src('./agent/src/standalone.ts'),
      '@litepred/agent': src('./agent/src/index.ts'),
      '@litepred/coordinator': src('./coordinator/src/index.ts'),
    },
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'agent/test/**/*.test.ts',
      'coordinator/test/**/*.test.ts',
      'cli/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 120_000,
    // Every JSON answer the coordinators of the suite give is checked against its route's schema
    // (packages/protocol/src/http.ts): a mismatch is a 500 the test sees. Child processes inherit it.
    env: { LITEPRED_CHECK_RESPONSES: '1' },
    hookTimeout: 120_000,
    // Timing tests share two cores: run files one at a time so they do not disturb each other.
    fileParallelism: false,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
