// Lint rules that enforce the dependency direction of docs/architecture.md:
// api/cli -> domain modules -> access/stix -> store. Domain modules never import api, cli,
// a store dialect, or React; store never imports a domain module.
import tseslint from 'typescript-eslint';

const domain = ['intel', 'taxii', 'detect', 'respond', 'exercise', 'federation', 'readiness'];
const noEdge = [
  { group: ['**/api/**', '**/api', '**/cli/**', '**/cli'], message: 'Domain modules must not import the HTTP/CLI edge.' },
  { group: ['**/store/sqlite*', '**/store/postgres*'], message: 'Use the Store interface from store/index.ts, not a dialect.' },
  { group: ['react', 'react-dom', 'react/*'], message: 'React belongs to web/ only.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { project: './tsconfig.json' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'max-params': ['error', 4],
      'no-console': 'error',
      'max-lines': ['warn', { max: 800, skipComments: true, skipBlankLines: true }],
    },
  },
  ...domain.map((m) => ({
    files: [`src/${m}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: noEdge }] },
  })),
  {
    files: ['src/stix/**/*.ts', 'src/access/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...noEdge, { group: domain.flatMap((d) => [`**/${d}/**`, `**/${d}`]), message: 'access/stix sit below the domain modules.' }] }],
    },
  },
  {
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: [...domain, 'access', 'api', 'cli'].flatMap((d) => [`**/${d}/**`, `../${d}`]), message: 'store never imports a domain module.' }] }],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
