/**
 * The dashboard's HTTP server: the page's static files and `/events`, a stream of
 * server-sent events (a `snapshot` on connect, then a `tick` a second). Read-only: it
 * answers GET and HEAD, nothing else.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Snapshot, Tick } from './model.js';

const require = createRequire(import.meta.url);

/** The page's source files ship in the package's `src/` (dist/src/dashboard -> src/dashboard). */
const pageDir = new URL('../../../src/dashboard/page/', import.meta.url);

/** The files served, by path: where each is and its type. */
const FILES: Readonly<Record<string, { path: string; type: string }>> = {
  '/': { path: fileURLToPath(new URL('index.html', pageDir)), type: 'text/html' },
  '/app.css': { path: fileURLToPath(new URL('app.css', pageDir)), type: 'text/css' },
  // Compiled from page/app.ts by the package's build.
  '/app.js': {
    path: fileURLToPath(new URL('./page/app.js', import.meta.url)),
    type: 'text/javascript',
  },
  // The page's script imports the model's constants.
  '/model.js': {
    path: fileURLToPath(new URL('./model.js', import.meta.url)),
    type: 'text/javascript',
  },
  '/uplot.js': {
    path: require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript',
  },
  '/uplot.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
};

/**
 * Nothing but the page's own files runs or loads: strings that reach the page are shown as
 * text, and this stops anything that got through anyway.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Serves the page and the event stream; the history is the caller's. */
export class DashboardServer {
  readonly #server: Server;
  readonly #snapshot: () => Snapshot;
  /** Open event streams. */
  readonly #clients = new Set<ServerResponse>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(snapshot: () => Snapshot) {
    this.#snapshot = snapshot;
    this.#server = createServer((request, response) => {
      void this.#handle(request, response);
    });
    // A comment line now and then keeps idle proxies from closing the stream.
    this.#heartbeat = setInterval(() => {
      for (const client of this.#clients) client.write(': ping\n\n');
    }, 15_000);
    this.#heartbeat.unref();
  }

  /** Listens on `host:port` (port 0 for any free one); resolves with the address. */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** Sends a tick to every open stream. */
  broadcast(tick: Tick): void {
    const frame = event('tick', tick);
    for (const client of this.#clients) client.write(frame);
  }

  /** Ends every stream and stops listening. */
  close(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    return new Promise((resolve) => {
      this.#server.close(() => {
        resolve();
      });
      this.#server.closeAllConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    if (path === '/events') {
      this.#stream(response);
      return;
    }
    const file = FILES[path];
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const body = await readFile(file.path);
      response.writeHead(200, {
        'content-type': `${file.type}; charset=utf-8`,
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(500, { 'content-type': 'text/plain' }).end('cannot read the page\n');
    }
  }

  #stream(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    // A page cut off tries again after a second.
    response.write('retry: 1000\n\n');
    response.write(event('snapshot', this.#snapshot()));
    this.#clients.add(response);
    response.once('close', () => this.#clients.delete(response));
  }
}

/** One server-sent event; JSON has no raw newline, so `data` is one line. */
function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
