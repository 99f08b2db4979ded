import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // The generated config validator is checked by tsc; eslint spends many minutes on its 440 KB of generated code.
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**', 'src/config/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // What Pantheon prints goes through src/cli/print.ts (made safe for a terminal); nothing else writes to the terminal.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/print.ts', 'src/cli/cli.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='write'][callee.object.object.name='process'][callee.object.property.name=/^std(out|err)$/]",
          message: 'Print through src/cli/print.ts (printOut, printErr, printJson), which makes the text safe for a terminal.',
        },
        { selector: "CallExpression[callee.object.name='console']", message: 'Print through src/cli/print.ts.' },
      ],
    },
  },
);
