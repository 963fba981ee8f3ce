/**
 * `corral serve` + `corral map --queue` + `corral queue info`, end to end as a user runs
 * them: the built executable, a real server, the same task module as the local `corral map`
 * tests. The run through the queue writes what the local run writes and exits the same.
 */
import { describe, expect, it } from 'vitest';
import { map, summary, TASKS as MAP_TASKS, tempDir, writeJsonl } from '../../helpers/cli-map.js';
import { CLI, uniqueQueue, useQueueCluster, type HostProcess } from '../../helpers/queue.js';
import { spawn } from 'node:child_process';

const cluster = useQueueCluster();

/** Runs `corral queue info ...args`. */
function queueInfo(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'queue', 'info', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

describe('corral serve and corral map --queue', () => {
  it('map the records across hosts with the output and exit codes of a local run', async () => {
    const queue = uniqueQueue();
    const hosts = [0, 1].map((i) =>
      cluster.startHost(queue, { module: MAP_TASKS, args: ['--name', `h${i}`] }),
    );
    await Promise.all(hosts.map((h) => h.ready));
    const dir = tempDir();
    const records = Array.from({ length: 300 }, (_, id) => ({ id }));
    const input = writeJsonl(dir, 'in.jsonl', records);

    // NATS_URL, as a user would set it, instead of --server.
    const env = { NATS_URL: cluster.url };
    const local = await map([MAP_TASKS, input, '--ordered']);
    const remote = await map([MAP_TASKS, input, '--ordered', '--queue', queue], { env });
    expect(remote.code).toBe(0);
    expect(remote.stdout).toBe(local.stdout);
    expect(summary(remote.stderr)).toEqual({ records: 300, failed: 0 });

    // A failing record: exit 1, the failure line as a local run writes it.
    const failing = writeJsonl(dir, 'fail.jsonl', [{ id: 1 }, { id: 2, fail: 'no' }, { id: 3 }]);
    const localFail = await map([MAP_TASKS, failing, '--ordered']);
    const remoteFail = await map([MAP_TASKS, failing, '--ordered', '--queue', queue], { env });
    expect(remoteFail.code).toBe(1);
    expect(remoteFail.stdout).toBe(localFail.stdout);
    const failureLine = (stderr: string): string =>
      stderr.split('\n').find((line) => line.startsWith('{"line"')) ?? '';
    expect(failureLine(remoteFail.stderr)).toBe(failureLine(localFail.stderr));
    expect(failureLine(remoteFail.stderr)).toContain('"code":"E_RECORD"');

    // A task the hosts do not have: exit 2 before any record is read, as locally.
    const unknown = await map([MAP_TASKS, input, '--task', 'nope', '--queue', queue], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no task named 'nope'.*\(ERR_UNKNOWN_TASK\)/);
    const targets = await map(
      [MAP_TASKS, input, '--key', 'id', '--target', 'x=1', '--queue', queue],
      {
        env,
      },
    );
    expect(targets.code).toBe(2);
    expect(targets.stderr).toMatch(/option 'target'/);

    // Presence is written every 2 s: a record written while the run was ending may still
    // show a job running, so wait for one that shows the host idle.
    let info = await queueInfo([queue, '--server', cluster.url]);
    for (let i = 0; i < 20 && !/\bh0 +2 +0 +\d+/.test(info.stdout); i++) {
      await new Promise((r) => setTimeout(r, 500));
      info = await queueInfo([queue, '--server', cluster.url]);
    }
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^Queue /);
    expect(info.stdout).toMatch(/pending: +0 job messages/);
    expect(info.stdout).toMatch(/Hosts seen: 2/);
    expect(info.stdout).toMatch(/\bh0 +2 +0 +\d+/);
    const json = JSON.parse(
      (await queueInfo([queue, '--json', '--server', cluster.url])).stdout,
    ) as {
      hosts: { name: string; reported: number }[];
    };
    expect(json.hosts.map((h) => h.name).sort()).toEqual(['h0', 'h1']);

    const missing = await queueInfo(['never-made', '--server', cluster.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/unknown queue 'never-made' \(ERR_UNKNOWN_QUEUE\)/);

    // SIGTERM drains: exit 0, and the host says what it reported.
    const host = hosts[0] as HostProcess;
    host.kill('SIGTERM');
    expect(await host.exited).toEqual({ code: 0, signal: null });
    expect(host.stderr()).toMatch(/drained: \d+ jobs reported/);
  }, 120_000);

  it('serve exits 2 on a usage error or a server it cannot reach', async () => {
    const noQueue = cluster.startHost('x', { args: ['--queue'] });
    expect((await noQueue.exited).code).toBe(2);
    const unreachable = cluster.startHost(uniqueQueue(), { server: 'nats://127.0.0.1:1' });
    expect((await unreachable.exited).code).toBe(2);
    expect(unreachable.stderr()).toMatch(/could not connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  }, 60_000);
});
