import { defineConfig } from 'vitest/config';

// Tests import the workspaces' TypeScript sources (the `assay-source` export condition); the real
// `assay` binary that e2e tests spawn runs the build (dist/), as an installed one does.
const conditions = ['assay-source', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
