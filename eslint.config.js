// ESLint 9 reads flat config; the project's rules live in .eslintrc.json, loaded here through FlatCompat.
const { FlatCompat } = require('@eslint/eslintrc');
const js = require('@eslint/js');

const compat = new FlatCompat({
  baseDirectory: __dirname,
  recommendedConfig: js.configs.recommended,
  allConfig: js.configs.all,
});

module.exports = [
  { ignores: ['dist/**', 'docs-api/**', 'node_modules/**', 'scratch/**', '.tmp/**', 'bench/results/**', 'samples/python/**', 'eslint.config.js'] },
  ...compat.config(require('./.eslintrc.json')),
];
