// Type-aware lint for every workspace. `no-floating-promises` is the rule that matters most in an
// event-driven codebase: an un-awaited publish or ack is a lost event. `import-x/no-cycle` refuses
// modules that import each other, directly or through others: what both need goes in a module of
// its own, so that dependencies point one way; `import-x/no-restricted-paths` keeps the common
// package's parts in layers (COMMON_LAYERS).
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers of `@ticketing/common`, lowest first: a module may import from its own layer and the
 * layers below it, never from one above. So the package's dependencies point one way between its
 * parts as well as between its files, and each part can be read knowing only those below it.
 */
const COMMON = 'packages/common/src';
const COMMON_LAYERS = [
  // What everything may use: errors, money, configuration, process start, the trace context.
  [
    'errors.ts',
    'money.ts',
    'net.ts',
    'start.ts',
    'tied.ts',
    'config',
    'observability/tracing.ts',
    'logger.ts',
  ],
  ['events'], // the contract: event types, their schemas, the statuses they carry
  ['db'], // a service's database: pools, migrations, units of work, the change feed
  ['messaging'], // transports, the outbox and its relay, consumers and listeners
  ['observability/metrics.ts', 'observability/transport.ts', 'observability/http.ts'], // instruments
  ['sessions'], // who is signed in, and revocations
  ['http'], // the HTTP server and its parts
  ['service.ts', 'index.ts', 'testing'], // a service put together; what the package exports
];
const layerZones = COMMON_LAYERS.slice(0, -1).map((layer, i) => ({
  target: layer.map((part) => `${COMMON}/${part}`),
  from: COMMON_LAYERS.slice(i + 1)
    .flat()
    .map((part) => `${COMMON}/${part}`),
  message: `${layer.join(', ')} may import only from its own layer of ${COMMON} and those below it (eslint.config.js)`,
}));

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '.data/**', '**/drizzle/**', 'coverage/**', 'artifacts/**'],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/only-throw-error': 'off',
    },
  },
  {
    // Tests read untyped JSON bodies all the time; type-safety of `any` there buys nothing.
    files: ['**/test/**/*.{ts,tsx}', 'e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: {
      // Follow the imports of TypeScript modules too (by default only .js ones are read).
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['tsconfig.json', 'apps/web/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
