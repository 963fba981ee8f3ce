/**
 * `corral bench` without a MODULE (or with `--peers`): runs the benchmark against the peer
 * pools (bench/run.js in a checkout of corral's repository, where the peers are installed as
 * the bench's own dependencies) and prints its table. `--quick` runs the short form.
 *
 * It runs only from a checkout: the peers are kept out of the package on purpose, so that
 * they never reach users, and an installed corral says so rather than failing oddly.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const runner = fileURLToPath(new URL('../../../bench/run.js', import.meta.url));
const peers = fileURLToPath(new URL('../../../bench/node_modules', import.meta.url));

/** Runs bench/run.js with the flags; resolves with the exit code. */
export async function runPeerBench(options: {
  quick?: boolean;
  only?: string;
  scenario?: string;
}): Promise<number> {
  if (!existsSync(runner)) {
    process.stderr.write(
      "corral bench: comparing with the peer pools needs a checkout of corral's repository. The\n" +
        'benchmark and the pools it compares with (piscina, poolifier, tinypool, workerpool) are not\n' +
        'part of the installed package; in a checkout, run: npm ci && npm ci --prefix bench && npx corral bench --quick\n' +
        'To measure your own task module: corral bench MODULE [INPUT.jsonl] (see corral bench --help).\n',
    );
    return 2;
  }
  if (!existsSync(peers)) {
    process.stderr.write(
      "corral bench: the benchmark's own dependencies are not installed: npm ci --prefix bench\n",
    );
    return 2;
  }
  const args = [runner];
  if (options.quick === true) args.push('--quick');
  if (options.only !== undefined) args.push('--only', options.only);
  if (options.scenario !== undefined) args.push('--scenario', options.scenario);
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  return new Promise<number>((resolve) => {
    child.on('exit', (c, signal) => {
      resolve(c ?? (signal === null ? 1 : 128));
    });
  });
}
