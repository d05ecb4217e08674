// bnx's lint and format rules, run by `npm test` (`npm run lint`; `npm run lint:fix` applies the fixable ones).
// No type-aware rules: they need a full TypeScript program and tsc already runs in `npm test`; without them
// the whole repository lints in seconds on two cores.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

// Stage folders export their public API from index.ts; other folders import only that. A few files are
// public entries of their own, each for a reason:
// - layers/options.ts and train/semantics.ts: what the pure stages (config/, plan/) need from a folder
//   whose index.ts loads TensorFlow;
// - testing.ts and fake-*.ts: test helpers (never published), imported by tests of other folders;
// - cli/*-command(s).ts: each command is an entry of its own (main.ts imports each lazily, so a command
//   loads only what it needs); tests of a stage call the command they exercise.
// util/ is not a stage: a set of small independent helpers, each file its own module.
// (Dynamic `import()` of a child process's entry point, e.g. launch/execute-run.js, is a path, not an API.)
const ENTRIES = ['index', 'layers/options', 'train/semantics', '[a-z-]+/testing', '[a-z-]+/fake-[a-z-]+', 'cli/[a-z-]+-commands?'];

/** no-restricted-imports pattern for a file whose path to framework/ is `up` ('../' per level, or './'). */
function internalsOfOtherFolders(up) {
  const escaped = up.replace(/[./]/g, (c) => `\\${c}`);
  const entry = ENTRIES.map((e) => (e === 'index' ? '[a-z-]+/index' : e)).join('|');
  return {
    regex: `^${escaped}(?!util/)(?!(?:${entry})\\.js$)[a-z][a-z-]*/.+`,
    message: 'Import another framework folder through its index.ts (export what you need there); see ARCHITECTURE.md.',
  };
}

const restrict = (files, up) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [internalsOfOtherFolders(up)] }] },
});

export default tseslint.config(
  { ignores: ['dist/', 'dist-dev/', 'node_modules/', '.bnx/', 'reports/', 'mlruns/', 'results/', '**/fixtures/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { console: 'readonly', process: 'readonly' } },
    plugins: { '@stylistic': stylistic },
    rules: {
      // The project's style as written: two-space indents, single quotes, semicolons, trailing commas in
      // multi-line literals. Line length is not enforced: messages and tables read better unbroken.
      '@stylistic/indent': ['error', 2, { SwitchCase: 1, offsetTernaryExpressions: true, ignoredNodes: ['TemplateLiteral *'] }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/eol-last': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', { max: 1, maxBOF: 0, maxEOF: 0 }],
      '@stylistic/no-tabs': 'error',
      '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/comma-spacing': 'error',
      '@stylistic/key-spacing': 'error',
      '@stylistic/arrow-spacing': 'error',
      '@stylistic/semi-spacing': 'error',
      '@stylistic/member-delimiter-style': 'error',
      '@stylistic/type-annotation-spacing': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
    },
  },
  restrict(['framework/*.ts'], './'),
  restrict(['framework/*/*.ts'], '../'),
  restrict(['framework/*/*/*.ts'], '../../'),
  restrict(['bench/**/*.ts', 'test-support/*.ts'], '../framework/'),
);
