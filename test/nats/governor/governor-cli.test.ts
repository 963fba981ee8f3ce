/**
 * `corral governor ...` end to end: the built executable against a real server.
 * Needs the build (dist/).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Governor, GovernorManager } from '#internal/nats/index.js';
import { uniqueName, useNatsServer, waitFor, watchPublished } from '../../helpers/nats-setup.js';

const nats = useNatsServer();
const CLI = new URL('../../../dist/src/cli/main.js', import.meta.url).pathname;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
});

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  readonly done: Promise<Result>;
  /** What the process has written to stdout so far. */
  stdout(): string;
  /** What the process has written to stderr so far. */
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NATS_URL: nats.server.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Result>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return {
    done,
    stdout: () => stdout,
    stderr: () => stderr,
    kill: (signal) => {
      child.kill(signal);
    },
  };
}

const corral = (...args: string[]): Promise<Result> => start(['governor', ...args]).done;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A `node -e` command line for `corral governor run ... --`. */
const node = (script: string): string[] => [process.execPath, '-e', script];

describe('corral governor', () => {
  it('add, list, view and rm a governor', async () => {
    const name = uniqueName('cli');
    const added = await corral('add', name, '3', '90s', '--replicas', '1');
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toContain(`governor ${name}: limit 3, max age 1m30s, replicas 1`);
    expect((await corral('add', name, '3', '90s')).code).toBe(0); // same config: fine

    const listed = await corral('list');
    expect(listed.stdout).toMatch(/NAME\s+LIMIT\s+ACTIVE\s+MAX AGE\s+REPLICAS/);
    expect(listed.stdout).toMatch(new RegExp(`${name}\\s+3\\s+0\\s+1m30s\\s+1`));
    const json = JSON.parse((await corral('list', '--json')).stdout) as { name: string }[];
    expect(json.find((g) => g.name === name)).toMatchObject({ limit: 3, maxAge: 90_000 });

    const viewed = await corral('view', name);
    expect(viewed.code).toBe(0);
    expect(viewed.stdout).toMatch(/limit:\s+3/);
    expect(viewed.stdout).toMatch(/max age:\s+1m30s/);
    expect(viewed.stdout).toContain('No slots are held.');

    expect(await corral('rm', name)).toMatchObject({
      code: 0,
      stdout: `removed governor ${name}\n`,
    });
    const gone = await corral('view', name);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`unknown governor '${name}' (ERR_UNKNOWN_GOVERNOR)`);
  });

  it('add refuses to change a governor without --update, and rejects bad arguments', async () => {
    const name = uniqueName('cli');
    await corral('add', name, '2', '1m');
    const refused = await corral('add', name, '5', '1m');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ERR_GOVERNOR_EXISTS');
    const updated = await corral('add', name, '5', '2m', '--update');
    expect(updated.stdout).toContain('limit 5, max age 2m');

    for (const args of [
      ['add', name, 'zero', '1m'],
      ['add', name, '2', '60'],
      ['add', 'bad.name', '2', '1m'],
      ['evict', name, 'x'],
    ]) {
      const result = await corral(...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).not.toBe('');
    }
    expect((await corral('add', name, '2', '60')).stderr).toContain('use a number and a unit');
  });

  it('view shows seq, name and age of each slot; evict and reset free them', async () => {
    const name = uniqueName('cli');
    await GovernorManager.create(nats.nc, name, { limit: 3, maxAge: 60_000 });
    const governor = new Governor(nats.nc, name);
    const a = await governor.start({ name: 'holder-a' });
    const b = await governor.start({ name: 'holder-b' });

    const viewed = await corral('view', name);
    expect(viewed.stdout).toMatch(/active:\s+2/);
    expect(viewed.stdout).toMatch(/SEQ\s+NAME\s+AGE\s+EXPIRES IN/);
    expect(viewed.stdout).toMatch(new RegExp(`${a.seq}\\s+holder-a\\s+\\d+(ms|\\.?\\d*s)`));
    const json = JSON.parse((await corral('view', name, '--json')).stdout) as {
      entries: { seq: number; name: string; age: number }[];
    };
    expect(json.entries.map((e) => [e.seq, e.name])).toEqual([
      [a.seq, 'holder-a'],
      [b.seq, 'holder-b'],
    ]);

    const evicted = await corral('evict', name, String(a.seq));
    expect(evicted).toMatchObject({ code: 0 });
    expect(evicted.stdout).toContain(`evicted entry ${a.seq} (holder-a) from governor ${name}`);
    const again = await corral('evict', name, String(a.seq));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('ERR_GOVERNOR_ENTRY_NOT_FOUND');

    const reset = await corral('reset', name);
    expect(reset.stdout).toContain(`reset governor ${name}: removed 1 entries`);
    expect(await (await GovernorManager.open(nats.nc, name)).active()).toBe(0);
    await Promise.all([a.finish(), b.finish()].map((p) => p.catch(() => undefined)));
  });

  it('chooses the server with --server over NATS_URL, and says when it cannot connect', async () => {
    const name = uniqueName('cli');
    const wrong = { NATS_URL: 'nats://127.0.0.1:1' };
    const failed = await start(['governor', 'add', name, '1', '1m'], wrong).done;
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('could not connect to NATS at nats://127.0.0.1:1');
    const ok = await start(['governor', 'add', name, '1', '1m', '--server', nats.server.url], wrong)
      .done;
    expect(ok.code).toBe(0);
  });

  it('add --subject keeps entries under that subject; view shows it and run finds it', async () => {
    const name = uniqueName('cli');
    const subject = `jobs.${name}`;
    expect(await corral('add', name, '1', '1m', '--subject', subject)).toMatchObject({ code: 0 });
    const viewed = await corral('view', name);
    expect(viewed.stdout).toContain(`subject:     ${subject}.*`);
    const published = await watchPublished(nats.nc, `${subject}.*`);
    expect(await corral('run', name, '--', ...node('1'))).toMatchObject({ code: 0 });
    expect(published.count()).toBeGreaterThanOrEqual(1);
    published.stop();
    const refused = await corral('add', name, '1', '1m');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('subject cannot be changed');
    const bad = await corral('add', uniqueName('cli'), '1', '1m', '--subject', 'a.*');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("option 'subject'");
  });

  describe('run', () => {
    it('holds a slot while the command runs, passes stdio through, and exits with its code', async () => {
      const name = uniqueName('run');
      const manager = await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 30_000 });
      const script =
        "console.log('out'); console.error('err'); setTimeout(() => process.exit(3), 1500)";
      const running = start(['governor', 'run', name, '--name', 'cli-job', '--', ...node(script)]);
      await waitFor(() => running.stdout().includes('out'));
      expect(await manager.entries()).toMatchObject([{ name: 'cli-job' }]);
      const result = await running.done;
      expect(result).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
      expect(await manager.active()).toBe(0);
    });

    it('gives up after --max-wait with exit code 75', async () => {
      const name = uniqueName('run');
      await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 30_000 });
      const holder = await new Governor(nats.nc, name).start();
      const result = await corral('run', name, '--max-wait', '1s', '--', ...node('1'));
      expect(result.code).toBe(75);
      expect(result.stderr).toContain(`no slot of governor '${name}' within 1s`);
      await holder.finish();
    });

    it('forwards SIGTERM to the command and frees the slot', async () => {
      const name = uniqueName('run');
      const manager = await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 30_000 });
      const script =
        "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(7); });" +
        "console.log('ready'); setInterval(() => {}, 1000);";
      const running = start(['governor', 'run', name, '--', ...node(script)]);
      await waitFor(() => running.stdout().includes('ready'));
      expect(await manager.active()).toBe(1);
      running.kill('SIGTERM');
      const result = await running.done;
      expect(result).toMatchObject({ code: 7, stdout: 'ready\ngot SIGTERM\n' });
      expect(await manager.active()).toBe(0);
    });

    it('stops waiting on SIGINT (exit 130) and leaves no entry', async () => {
      const name = uniqueName('run');
      const manager = await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 30_000 });
      const holder = await new Governor(nats.nc, name).start({ name: 'holder' });
      const running = start(['governor', 'run', name, '--', ...node("console.log('ran')")]);
      await waitFor(() => running.stderr().includes('waiting for a slot'));
      running.kill('SIGINT');
      const result = await running.done;
      expect(result).toMatchObject({ code: 130, stdout: '' });
      expect(result.stderr).toContain(`governor '${name}' is full (1 of 1 slots held)`);
      expect(await manager.entries()).toMatchObject([{ name: 'holder' }]);
      await holder.finish();
    });

    it('stops the command when its slot is lost, and never exits 0 then', async () => {
      const name = uniqueName('run');
      const manager = await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 3000 });
      const script =
        "process.on('SIGTERM', () => { console.log('stopped'); process.exit(0); });" +
        "console.log('ready'); setInterval(() => {}, 1000);";
      const running = start(['governor', 'run', name, '--', ...node(script)]);
      await waitFor(() => running.stdout().includes('ready'));
      const [entry] = await manager.entries();
      await manager.evict(entry?.seq ?? 0);
      const result = await running.done;
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('ready\nstopped\n');
      expect(result.stderr).toMatch(/lost slot \d+ of governor .*; stopping the command/);
    });

    it('--max-per-period leaves the entry to expire: the next run waits for it', async () => {
      const name = uniqueName('run');
      const manager = await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 60_000 });
      const first = await corral(
        'run',
        name,
        '--max-per-period',
        '--name',
        'once',
        '--',
        ...node('1'),
      );
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(await manager.entries()).toMatchObject([{ name: 'once' }]);
      const second = await corral(
        'run',
        name,
        '--max-wait',
        '1s',
        '--',
        ...node("console.log('ran')"),
      );
      expect(second).toMatchObject({ code: 75, stdout: '' });
      await manager.reset();
    });

    it('--interval sets how often a waiting run tries again', async () => {
      const name = uniqueName('run');
      await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 60_000 });
      const holder = await new Governor(nats.nc, name, { refreshInterval: false }).start();
      const tries = await watchPublished(nats.nc, `corral.governor.${name}.*`);
      const running = start([
        'governor',
        'run',
        name,
        '--interval',
        '6s',
        '--backoff',
        'constant',
        '--',
        ...node('1'),
      ]);
      await waitFor(() => tries.count() >= 1, 30_000);
      // The default policy would have tried again after 125-250 ms, and several times since.
      await sleep(2000);
      expect(tries.count()).toBe(1);
      await waitFor(() => tries.count() >= 2, 30_000);
      running.kill('SIGINT');
      expect((await running.done).code).toBe(130);
      tries.stop();
      await holder.finish();
    });

    it('rejects bad campaign flags, naming them', async () => {
      const name = uniqueName('run');
      const manager = await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 60_000 });
      const policy = await corral('run', name, '--backoff', 'linear', '--', ...node('1'));
      expect(policy.code).toBe(1);
      expect(policy.stderr).toContain('Allowed choices are exponential, constant');
      const intervals = await corral(
        'run',
        name,
        '--interval',
        '5s',
        '--max-interval',
        '1s',
        '--',
        ...node("console.log('ran')"),
      );
      expect(intervals).toMatchObject({ code: 1, stdout: '' });
      expect(intervals.stderr).toContain(
        "option 'maxRetryInterval' must be at least retryInterval (5000 ms) with the exponential backoff",
      );
      // The cap means nothing to the constant policy: --backoff reaches the governor.
      const holder = await new Governor(nats.nc, name).start();
      const constant = await corral(
        'run',
        name,
        '--backoff',
        'constant',
        '--interval',
        '5s',
        '--max-interval',
        '1s',
        '--max-wait',
        '1s',
        '--',
        ...node("console.log('ran')"),
      );
      expect(constant).toMatchObject({ code: 75, stdout: '' });
      await holder.finish();
      expect(await manager.active()).toBe(0);
    });

    it('says when the command cannot be started (exit 127)', async () => {
      const name = uniqueName('run');
      await GovernorManager.create(nats.nc, name, { limit: 1, maxAge: 30_000 });
      const result = await corral('run', name, '--', 'corral-no-such-command');
      expect(result.code).toBe(127);
      expect(result.stderr).toContain("cannot run 'corral-no-such-command'");
      expect(await (await GovernorManager.open(nats.nc, name)).active()).toBe(0);
    });

    it('says "unknown governor" for a governor that does not exist', async () => {
      const result = await corral('run', uniqueName('nope'), '--', ...node('1'));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('ERR_UNKNOWN_GOVERNOR');
    });
  });
});
