import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, bottom to top: each imports only layers below it (README, Layout). The rule
 * below turns every arrow that runs back up into a lint error, so no cycle between folders can form.
 */
const LAYERS = ['base', 'schedule', 'jobsfile', 'coordination', 'db', 'watchers', 'scheduler', 'observe', 'tui', 'cli'];
const layerZones = LAYERS.map((layer, i) => ({
  target: `./src/${layer}`,
  from: LAYERS.slice(i + 1).map((above) => `./src/${above}`),
  message: `${layer}/ is below ${LAYERS.slice(i + 1).join(', ')}: import downwards only (see the Layout section of the README).`,
})).filter((zone) => zone.from.length > 0);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tmp/', 'test/fixtures/plugins/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Return an exit code to src/cli/main.ts instead.' }],
    },
  },
  {
    // No import cycles in the product, lazy import() included, and no import up a layer.
    files: ['src/**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { allowUnsafeDynamicCyclicDependency: false }],
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
    },
  },
  {
    files: ['src/cli/main.ts', 'bin/*.js', 'bench/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
