import { beforeAll, describe, expect, it } from 'vitest';
import { TASKS, requireBuild, startMap } from '../helpers/cli-map.js';
import { scrape, value } from '../helpers/prometheus.js';
import { until } from '../helpers/index.js';

beforeAll(requireBuild);

describe('corral map --metrics-port', () => {
  it('serves /metrics on 127.0.0.1 while it runs, counting the records', async () => {
    const run = startMap([TASKS, '--threads', '2', '--metrics-port', '0']);
    try {
      await until(() => /metrics at (\S+)/.test(run.stderr()));
      const url = (/metrics at (\S+)/.exec(run.stderr()) as RegExpExecArray)[1] as string;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const records = [
        ...Array.from({ length: 20 }, (_, id) => ({ id })),
        { id: 99, fail: 'no' },
        { id: 98, fail: 'no' },
      ];
      run.child.stdin.write(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      let m = await scrape(url);
      for (let i = 0; i < 200; i++) {
        if (value(m, 'corral_jobs_completed_total', { pool: 'map' }) === 20) break;
        await new Promise((r) => setTimeout(r, 25));
        m = await scrape(url);
      }
      expect(value(m, 'corral_jobs_completed_total', { pool: 'map' })).toBe(20);
      expect(value(m, 'corral_jobs_failed_total', { pool: 'map', code: 'E_RECORD' })).toBe(2);
      expect(value(m, 'corral_threads', { pool: 'map' })).toBe(2);
    } finally {
      run.child.stdin.end();
    }
    const result = await run.done;
    expect(result.code).toBe(1); // two records failed
  });
});
