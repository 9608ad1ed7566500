// Lint: type-aware rules for promises, no console in src/, and the layer graph of
// ARCHITECTURE.md enforced with per-folder import bans (arrows only point down).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// For each layer, the layers it must never import from.
const forbidden = {
  common: ['config', 'remoting', 'store', 'namesrv', 'broker', 'proxy', 'client', 'observability', 'console', 'cli'],
  config: ['remoting', 'store', 'namesrv', 'broker', 'proxy', 'client', 'observability', 'console', 'cli'],
  remoting: ['store', 'namesrv', 'broker', 'proxy', 'client', 'observability', 'console', 'cli'],
  store: ['remoting', 'namesrv', 'broker', 'proxy', 'client', 'observability', 'console', 'cli'],
  namesrv: ['store', 'broker', 'proxy', 'client', 'console', 'cli'],
  broker: ['namesrv', 'proxy', 'client', 'console', 'cli'],
  // Below broker: it sees hook events, never processors or services.
  observability: ['namesrv', 'broker', 'proxy', 'client', 'console', 'cli'],
  client: ['store', 'namesrv', 'broker', 'proxy', 'console', 'cli'],
  proxy: ['namesrv', 'console', 'cli'],
  console: ['cli'],
};

const layerRules = Object.entries(forbidden).map(([layer, banned]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: banned.map((b) => ({
          group: [`**/${b}/*`, `**/${b}/**`, `../${b}`, `../../${b}`],
          message: `src/${layer} may not import from src/${b} (see docs ARCHITECTURE.md layers)`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'bin/**', '.bench-data/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/test return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-console': 'error' } },
  { files: ['scripts/**/*.mjs', 'eslint.config.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  ...layerRules,
);
