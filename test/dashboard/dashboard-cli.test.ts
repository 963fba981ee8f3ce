/**
 * The dashboard from the command line: `corral map --dashboard` serves the run's page while
 * it runs, `corral dashboard --queue` a queue's until interrupted.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Snapshot, Tick } from 'corral/dashboard';
import { startMap, TASKS as MAP_TASKS } from '../helpers/cli-map.js';
import { CLI, useQueueCluster } from '../helpers/queue.js';
import { readEvents } from '../helpers/sse.js';

const cluster = useQueueCluster({ serve: { hosts: 1 } });

/** Resolves with the first URL a process writes on stderr after `prefix`. */
function urlIn(stderr: () => string, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const m = new RegExp(`${prefix}(http://\\S+)`).exec(stderr());
      if (m?.[1] !== undefined) {
        clearInterval(timer);
        resolve(m[1]);
      } else if (Date.now() - started > 10_000) {
        clearInterval(timer);
        reject(new Error(`no URL after '${prefix}' in:\n${stderr()}`));
      }
    }, 50);
  });
}

describe('corral map --dashboard', () => {
  it('serves the page of the run on 127.0.0.1 while it runs, and stops with it', async () => {
    const run = startMap([MAP_TASKS, '--dashboard', '0']);
    const url = await urlIn(() => run.stderr(), 'corral map: dashboard on ');
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const [first] = await readEvents(new URL('events', url).href, 1);
    expect((first?.data as Snapshot).title).toBe('local pool');
    run.child.stdin.end(`${JSON.stringify({ id: 1 })}\n${JSON.stringify({ id: 2 })}\n`);
    const result = await run.done;
    expect(result.code).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  });
});

describe('corral dashboard --queue', () => {
  it("serves the queue's page with its hosts, one that drains shown as left, until SIGTERM", async () => {
    const child = spawn(process.execPath, [
      CLI,
      'dashboard',
      '--queue',
      cluster.queue,
      '--port',
      '0',
      '--server',
      cluster.url,
    ]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = await urlIn(() => stderr, `corral dashboard: queue ${cluster.queue} on `);
      const events = await readEvents(new URL('events', url).href, 4);
      expect((events[0]?.data as Snapshot).title).toBe(cluster.queue);
      const last = events.at(-1)?.data as Tick;
      expect(last.hosts.map((h) => h.state)).toEqual(['serving']);
      expect(last.queue).toEqual({ pending: 0, inFlight: 0, redelivered: 0 });

      // A host that drains says so as it stops: it is shown as left, not gone.
      const [host] = cluster.hosts;
      host?.kill('SIGTERM');
      await host?.exited;
      const after = await readEvents(new URL('events', url).href, 2);
      expect((after.at(-1)?.data as Tick).hosts.map((h) => h.state)).toEqual(['left']);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
