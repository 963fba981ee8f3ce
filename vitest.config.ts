import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest.json' },
    // Type tests (`expectTypeOf`, `@ts-expect-error`) in *.test-d.ts: tsc checks them, never run.
    // Their own tsconfig keeps tsc to them and what they import (the whole project is
    // `npm run typecheck`'s job); a type error elsewhere in that closure fails the run too.
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.typetests.json',
    },
  },
});
