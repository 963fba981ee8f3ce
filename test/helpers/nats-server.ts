/**
 * A real `nats-server -js` for tests: on a free loopback port, with its own store directory,
 * stoppable and restartable on the same port and store. If the binary is missing the suite
 * fails with how to install it, rather than skipping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A running (or stopped) nats-server. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory (kept across `restart()`). */
  readonly storeDir: string;
  /** What the server has logged, for failure messages. */
  log(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); the store stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** Stops it, waits `downFor` ms (default 0) with no server listening, and starts it again. */
  restart(downFor?: number): Promise<void>;
  /** Stops it and deletes the store. */
  close(): Promise<void>;
}

const INSTALL_HINT =
  'nats-server was not found (looked in $NATS_SERVER, $PATH, /usr/sbin, /usr/local/bin). ' +
  'The NATS tests need a real server: install it with `apt-get install nats-server` ' +
  '(Debian/Ubuntu), `brew install nats-server`, or from https://github.com/nats-io/nats-server/releases, ' +
  'or set NATS_SERVER to its path.';

/** The path of the nats-server binary; throws how to install it if there is none. */
export function findNatsServer(): string {
  const explicit = process.env['NATS_SERVER'];
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin'];
  const candidates = explicit ? [explicit] : dirs.map((dir) => join(dir, 'nats-server'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(INSTALL_HINT);
}

/** Servers still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/** Starts `nats-server -js` on 127.0.0.1 and waits until it is ready for clients. */
export async function startNatsServer(): Promise<NatsServer> {
  const binary = findNatsServer();
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'corral-nats-'));
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    const proc = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    const from = output.length;
    let ready = false;
    const exited = new Promise<never>((_, reject) => {
      proc.once('exit', (code, signal) => {
        if (!ready) {
          reject(
            new Error(`nats-server exited (${signal ?? code}) before it was ready:\n${output}`),
          );
        }
      });
    });
    exited.catch(() => undefined);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    const deadline = Date.now() + 15_000;
    const waitReady = async (): Promise<void> => {
      while (!(output.includes('Server is ready', from) && (await accepts(port)))) {
        if (Date.now() > deadline) throw new Error(`nats-server not ready after 15 s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      ready = true;
    };
    await Promise.race([waitReady(), exited]);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        resolve();
      }),
    );
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    log: () => output,
    stop,
    start,
    restart: async (downFor = 0) => {
      await stop();
      if (downFor > 0) await new Promise((resolve) => setTimeout(resolve, downFor));
      await start();
    },
    close: async () => {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
