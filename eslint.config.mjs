// Lint rules that hold the architecture in place: the core never sees VS Code,
// and nothing in the product may reach the network.
import tseslint from 'typescript-eslint';

const networkModules = ['http', 'https', 'net', 'tls', 'dgram', 'undici', 'node:http', 'node:https', 'node:net', 'node:tls', 'node:dgram', 'http2', 'node:http2', 'dns', 'node:dns'];
// Files allowed to import a network module. Starts empty on purpose.
const networkAllowList = [];

const noNetwork = networkModules.map((name) => ({ name, message: 'No network access in Context Budget: user code never leaves the machine.' }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/e2e/.host/**', 'test/fixtures/**', 'test/e2e/fixture/**', 'test/e2e/artifacts/**', '**/*.js', '**/*.mjs', '.cache/**', 'bench/corpus/**', 'bench/devset/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: noNetwork }],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'No network access in Context Budget.' }, { name: 'WebSocket', message: 'No network access in Context Budget.' }],
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts', 'src/shared/**/*.ts', 'webview/**/*.ts'],
    ignores: networkAllowList,
    rules: {
      'no-restricted-imports': ['error', { paths: [...noNetwork, { name: 'vscode', message: 'src/core, src/cli, src/shared and webview must not depend on the VS Code API.' }] }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
