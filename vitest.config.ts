// The test runner (the design card names vitest). Every file runs in a process of its own, two
// at a time on our 2-core machines, against the real PostgreSQL and Redis (see @hearth/testkit);
// each file gets its own database and Redis key prefix, so files never see each other's data.
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages are run from their TypeScript sources, as `npm run dev` runs them.
const conditions = ['@hearth/source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'tools/test/**/*.test.ts'],
    globalSetup: ['./vitest.global-setup.ts'],
    pool: 'forks',
    maxWorkers: 3,
    // Real databases and argon2: generous, so a slow machine does not fail a correct test.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    // A test that fails only under load is a defect to find, not to retry away.
    retry: 0,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
