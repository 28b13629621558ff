// ESLint: typescript-eslint with type information, for the bugs types alone do not catch
// (floating promises, misused promises, unsafe any). Formatting is Prettier's job.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'bench/results/', '.tmp/', 'bench/ingest-client.mjs', 'bin/'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // tests and boundary code read JSON of known shape; the schema checks happen at the edges
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      // defensive formatting of unknown values (error causes, SQL cells) is deliberate
      '@typescript-eslint/no-base-to-string': 'off',
      // `code: RejectCode | string` documents the known codes while accepting new ones
      '@typescript-eslint/no-redundant-type-constituents': 'off',
    },
  },
);
