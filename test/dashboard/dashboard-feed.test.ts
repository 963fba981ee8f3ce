/**
 * The dashboard's event stream, for a local pool: what `/events` sends, the server's
 * answers to what it does not serve, and, in chromium, a page that gets its history back
 * after a reload and after a restart of the server (which drops its streams).
 */
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'corral';
import { serveDashboard, type Snapshot, type Tick } from 'corral/dashboard';
import type { RemotePool } from 'corral/nats';
import { launchBrowser } from '../helpers/browser.js';
import { readEvents } from '../helpers/sse.js';

const TASKS = fileURLToPath(new URL('../fixtures/queue/tasks.mjs', import.meta.url));

let pool: Pool;
let browser: Browser;

beforeAll(async () => {
  pool = new Pool({ module: TASKS, threads: 2 });
  await pool.ready();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await pool.shutdown();
});

describe('the event stream', () => {
  it('sends the history on connect, then a tick a second', async () => {
    await using dashboard = await serveDashboard(pool, { port: 0, interval: 200 });
    expect(new URL(dashboard.url).hostname).toBe('127.0.0.1');
    await pool.do({ message: 'no', code: 'E_NO' }, { task: 'fail' }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [first, second] = await readEvents(new URL('events', dashboard.url).href, 2);
    expect(first?.event).toBe('snapshot');
    const snapshot = first?.data as Snapshot;
    expect(snapshot.title).toBe('local pool');
    expect(snapshot.series.time.length).toBeGreaterThan(1);
    expect(snapshot.failures[0]).toMatchObject({ task: 'fail', code: 'E_NO', message: 'no' });
    expect(second?.event).toBe('tick');
    const tick = second?.data as Tick;
    expect(tick.hosts).toHaveLength(1);
    expect(tick.failed).toBe(pool.stats().failed);
    expect(tick.histograms['fail']?.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('is read-only: other methods are refused, unknown paths are not found', async () => {
    await using dashboard = await serveDashboard(pool, { port: 0 });
    expect((await fetch(dashboard.url, { method: 'POST' })).status).toBe(405);
    expect((await fetch(new URL('../etc/passwd', dashboard.url))).status).toBe(404);
    const page = await fetch(dashboard.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    for (const path of ['app.js', 'app.css', 'uplot.js', 'uplot.css', 'model.js']) {
      expect((await fetch(new URL(path, dashboard.url))).status, path).toBe(200);
    }
  });

  it('checks its options', async () => {
    await expect(serveDashboard(pool, { port: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining("'port'") as unknown,
    });
    // @ts-expect-error: not an option
    await expect(serveDashboard(pool, { prot: 1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
    // A RemotePool (anything with a queue that is not a Pool) needs its connection.
    const remote = { queue: 'q' } as unknown as RemotePool;
    await expect(serveDashboard(remote)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining("'nc'") as unknown,
    });
  });
});

const points = async (page: Page): Promise<number> =>
  Number(await page.locator('#throughput').getAttribute('data-points'));
const status = (page: Page): Promise<string | null> => page.locator('#status').textContent();

describe('the page, across reconnections', () => {
  it('gets the history back after a reload and a server restart', async () => {
    const first = await serveDashboard(pool, { port: 0 });
    const port = Number(new URL(first.url).port);
    const page = await browser.newPage();
    await page.goto(first.url);
    await expect.poll(() => status(page), { timeout: 5000 }).toBe('live');
    await pool
      .do({ message: 'lost <b>bold</b>', code: 'E_ONE' }, { task: 'fail' })
      .catch(() => undefined);
    await Promise.all(
      Array.from({ length: 50 }, (_, n) => pool.do({ n, ms: 2 }, { task: 'logged' })),
    );
    await expect.poll(() => points(page), { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    await expect
      .poll(() => page.locator('#failures td.message').first().textContent(), { timeout: 3000 })
      .toBe('lost <b>bold</b>');

    // A reload: the page had nothing of its own; the server sends the history again.
    const before = await points(page);
    await page.reload();
    await expect.poll(() => status(page), { timeout: 5000 }).toBe('live');
    expect(await points(page)).toBeGreaterThanOrEqual(before);
    expect(await page.locator('#failures td.message').first().textContent()).toBe(
      'lost <b>bold</b>',
    );
    // Within one update (the page is sent a reading a second).
    await expect
      .poll(() => page.locator('#completed').textContent(), { timeout: 3000 })
      .toBe(String(pool.stats().completed));

    // The server restarted on the same port (its streams dropped): the page reconnects to it
    // by itself, and gets the new server's history.
    await first.close();
    await expect.poll(() => status(page), { timeout: 5000 }).toBe('reconnecting');
    const down = await points(page);
    await using second = await serveDashboard(pool, { port });
    await expect.poll(() => status(page), { timeout: 10_000 }).toBe('live');
    // A new server's history starts again: the page shows it, not what it had.
    expect(await points(page)).toBeLessThan(down);
    await pool.do({ message: 'after', code: 'E_TWO' }, { task: 'fail' }).catch(() => undefined);
    await expect
      .poll(() => page.locator('#failures td.message').first().textContent(), { timeout: 3000 })
      .toBe('after');
    expect(second.url).toBe(first.url);
    await page.close();
  }, 60_000);
});
