// The test runner (the design card names vitest). Files run against the real PostgreSQL and Redis
// (see @hearth/testkit); each file gets its own database, cloned from a migrated template, and its
// own Redis key prefix, so files never see each other's data. Worker processes are reused from
// file to file (isolate: false): the sources are loaded once per worker instead of once per file,
// which was most of a small file's cost. A test file must therefore leave no global behind (it
// restores what it sets in process.env, removes its listeners, closes what it starts).
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
    isolate: false,
    maxWorkers: 3,
    // Real databases and argon2: generous, so a slow machine does not fail a correct test.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    // A test that fails only under load is a defect to find, not to retry away.
    retry: 0,
  },
});
