/** The test helper itself: a missing nats-server fails loudly, with how to install it. */
import { afterEach, describe, expect, it } from 'vitest';
import { findNatsServer, startNatsServer } from '../helpers/nats-server.js';

describe('the nats-server test helper', () => {
  const saved = process.env['NATS_SERVER'];
  afterEach(() => {
    if (saved === undefined) delete process.env['NATS_SERVER'];
    else process.env['NATS_SERVER'] = saved;
  });

  it('fails, never skips, when the binary is missing, and says how to install it', async () => {
    process.env['NATS_SERVER'] = '/nonexistent/nats-server';
    expect(() => findNatsServer()).toThrow(/apt-get install nats-server/);
    await expect(startNatsServer()).rejects.toThrow(/apt-get install nats-server/);
  });

  it('starts a server on a loopback port, restarts it on the same port and store, and stops it', async () => {
    const server = await startNatsServer();
    try {
      expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      const { port, storeDir } = server;
      await server.restart();
      expect(server).toMatchObject({ port, storeDir });
      expect(server.log()).toContain(`127.0.0.1:${port}`);
    } finally {
      await server.close();
    }
  });
});
