import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

describe('corral bench', () => {
  it('runs the short form of a scenario and prints its table', async () => {
    const { stdout } = await run(
      process.execPath,
      [cli, 'bench', '--quick', '--only', 'corral,bare', '--scenario', '3'],
      { timeout: 120_000 },
    );
    expect(stdout).toMatch(/## 3\. .*round trips/);
    expect(stdout).toMatch(/\| corral +\|/);
    expect(stdout).toMatch(/\| bare +\|/);
  }, 120_000);
});
