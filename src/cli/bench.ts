/**
 * `corral bench`: runs the benchmark against the peer pools (bench/run.js in a checkout
 * of corral's repository, where the peers are installed as the bench's own dependencies)
 * and prints its table. `--quick` runs the short form.
 *
 * It runs only from a checkout: the peers are kept out of the package on purpose, so that
 * they never reach users, and an installed corral says so rather than failing oddly.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

const runner = fileURLToPath(new URL('../../../bench/run.js', import.meta.url));
const peers = fileURLToPath(new URL('../../../bench/node_modules', import.meta.url));

/** Adds `corral bench` to the program. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'benchmark corral against piscina, poolifier, tinypool and workerpool (from a checkout)',
    )
    .option('--quick', 'the short form: one repetition of a tenth of the tasks (about a minute)')
    .option('--only <pools>', 'comma-separated contestants, e.g. corral,piscina')
    .option('--scenario <numbers>', 'comma-separated scenario numbers, e.g. 1,3')
    .action(async (options: { quick?: boolean; only?: string; scenario?: string }) => {
      if (!existsSync(runner)) {
        process.stderr.write(
          "corral bench: needs a checkout of corral's repository. The benchmark and the pools it\n" +
            'compares with (piscina, poolifier, tinypool, workerpool) are not part of the installed\n' +
            'package; in a checkout, run: npm ci && npm ci --prefix bench && npx corral bench --quick\n',
        );
        process.exitCode = 2;
        return;
      }
      if (!existsSync(peers)) {
        process.stderr.write(
          "corral bench: the benchmark's own dependencies are not installed: npm ci --prefix bench\n",
        );
        process.exitCode = 2;
        return;
      }
      const args = [runner];
      if (options.quick === true) args.push('--quick');
      if (options.only !== undefined) args.push('--only', options.only);
      if (options.scenario !== undefined) args.push('--scenario', options.scenario);
      const child = spawn(process.execPath, args, { stdio: 'inherit' });
      const code = await new Promise<number>((resolve) => {
        child.on('exit', (c, signal) => {
          resolve(c ?? (signal === null ? 1 : 128));
        });
      });
      process.exitCode = code;
    });
}
