/**
 * The dashboard of a work queue in a real browser (Debian's chromium): two hosts as separate
 * processes run a batch while the page watches; its counts are checked against the client's
 * `stats()` and `corral queue info`, a host killed with SIGKILL is marked gone, and an error
 * message holding HTML shows as text. `DASHBOARD_SCREENSHOT=path` also saves a screenshot.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDashboard, type Dashboard } from 'corral/dashboard';
import type { QueueInfo } from 'corral/nats';
import { launchBrowser } from '../helpers/browser.js';
import { CLI, collect, loggedJobs, useQueueCluster } from '../helpers/queue.js';

const cluster = useQueueCluster();
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
});

/** `corral queue info NAME --json`. */
async function cliInfo(queue: string): Promise<QueueInfo> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    CLI,
    'queue',
    'info',
    queue,
    '--json',
    '--server',
    cluster.url,
  ]);
  return JSON.parse(stdout) as QueueInfo;
}

/** A card's number as the page shows it (`1,234` -> 1234). */
async function card(page: Page, id: string): Promise<number> {
  const text = (await page.locator(`#${id}`).textContent()) ?? '';
  return Number(text.replaceAll(',', ''));
}

const points = async (page: Page): Promise<number> =>
  Number(await page.locator('#throughput').getAttribute('data-points'));

const XSS = '<img src=x onerror="document.title=\'pwned\'">';

describe('the dashboard of a queue, in chromium', () => {
  it('shows both hosts, the batch, the counts of stats() and queue info, a lost host, failures as text', async () => {
    const { queue, pool, hosts } = await cluster.serveQueue(2);
    const [, victim] = hosts;
    if (victim === undefined) throw new Error('two hosts expected');
    await using dashboard: Dashboard = await serveDashboard(pool, { port: 0, nc: cluster.nc });
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(dashboard.url);
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 5000 }).toBe('live');
    await expect.poll(() => page.locator('#title').textContent()).toBe(queue);

    // Both hosts, by the names they give `corral queue info`.
    const info = await cliInfo(queue);
    await expect.poll(() => page.locator('#hosts tbody tr').count(), { timeout: 5000 }).toBe(2);
    const names = await page.locator('#hosts tbody td.name').allTextContents();
    expect(names.sort()).toEqual(info.hosts.map((h) => h.name).sort());

    // A failure whose message holds HTML: shown as text, no element made of it.
    await expect(pool.do({ message: XSS, code: 'E_XSS' }, { task: 'fail' })).rejects.toThrow();
    const message = page.locator('#failures td.message').first();
    await expect.poll(() => message.textContent(), { timeout: 5000 }).toBe(XSS);
    expect(await message.isVisible()).toBe(true);
    expect(await page.locator('#failures td.code').first().textContent()).toBe('E_XSS');
    expect(await page.locator('#failures td.name').nth(1).textContent()).toBe('fail');
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');

    // A batch: the chart grows, the batch shows, and the lost host is marked gone.
    const before = await points(page);
    const run = collect(pool.execute(loggedJobs(1200, 8), { task: 'logged' }));
    await expect
      .poll(() => page.locator('#batch').getAttribute('data-active'), { timeout: 5000 })
      .toBe('true');
    await expect.poll(() => card(page, 'rate'), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.locator('#batch-text').textContent()).toMatch(/of [\d,]+ jobs done/);
    await expect.poll(() => points(page), { timeout: 5000 }).toBeGreaterThan(before + 2);
    victim.kill('SIGKILL');
    await expect
      .poll(() => page.locator('#hosts tbody tr[data-state="gone"]').count(), { timeout: 10_000 })
      .toBe(1);
    expect(await page.locator('#hosts tbody tr[data-state="serving"]').count()).toBe(1);
    const screenshot = process.env['DASHBOARD_SCREENSHOT'];
    if (screenshot !== undefined) await page.screenshot({ path: screenshot });
    const outcomes = await run;
    // Jobs the lost host held fail ERR_HOST_LOST (one try each): they count as failed.
    expect(outcomes).toHaveLength(1200);

    // The totals are the client's, within one update of the batch's end.
    const stats = pool.stats();
    await expect.poll(() => card(page, 'completed'), { timeout: 3000 }).toBe(stats.completed);
    await expect.poll(() => card(page, 'failed'), { timeout: 3000 }).toBe(stats.failed);
    await expect
      .poll(() => page.locator('#batch').getAttribute('data-active'), { timeout: 3000 })
      .toBe('false');

    // Jobs that hold still for a while: the queue's counts are those of `corral queue info`.
    const held = collect(pool.execute(Array<number>(4).fill(3000), { task: 'sleep' }));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const still = await cliInfo(queue);
    expect(still.pending + still.inFlight).toBeGreaterThan(0);
    await expect.poll(() => card(page, 'pending'), { timeout: 2500 }).toBe(still.pending);
    expect(await card(page, 'in-flight')).toBe(still.inFlight);
    expect(await card(page, 'redelivered')).toBe(still.redelivered);
    expect(await page.locator('#stream').boundingBox()).not.toBeNull();
    await held;
    await page.close();
  }, 90_000);
});
