/**
 * A queue as a dashboard source: the hosts' snapshots (see `src/nats/queue/host-stats.ts`),
 * the queue's state (`queueInfo`) and, when given, the client whose batch is shown. Loaded
 * only for a queue, so that the core never loads the NATS client.
 *
 * @module
 */
import type { NatsConnection } from '../nats/shared/connection.js';
import {
  hostStatsSubject,
  hostStatsWatchSubject,
  type HostStatsMessage,
  type HostStatsState,
} from '../nats/queue/host-stats.js';
import { queueInfo } from '../nats/queue/info.js';
import type { RemotePool } from '../nats/queue/remote-pool.js';
import { readingOfJobs, type SettledJob } from './job-feed.js';
import type { DashboardSource, HostReading, Reading } from './source.js';

/** A host silent this long (ms) is forgotten. */
const FORGET_AFTER = 5 * 60_000;

/** Watches a queue's hosts and state on `nc`. */
export class ClusterSource implements DashboardSource {
  readonly title: string;
  readonly #nc: NatsConnection;
  readonly #client: RemotePool | undefined;
  /** The latest snapshot of each host, by id. */
  readonly #hosts = new Map<string, HostStatsMessage>();
  /** Jobs of the snapshots since the last read, with their host's name. */
  #jobs: { host: string; jobs: readonly SettledJob[] }[] = [];
  readonly #subscription: { unsubscribe(): void };

  constructor(nc: NatsConnection, queue: string, client?: RemotePool) {
    this.title = queue;
    this.#nc = nc;
    this.#client = client;
    this.#subscription = nc.subscribe(hostStatsSubject(queue), {
      callback: (error, message) => {
        if (error !== null) return;
        const snapshot = parse(message.data);
        if (snapshot === undefined) return;
        this.#hosts.set(snapshot.id, snapshot);
        if (snapshot.jobs.length > 0) this.#jobs.push({ host: snapshot.name, jobs: snapshot.jobs });
      },
    });
    // Hosts record their jobs for their snapshots only while someone listens: from now on.
    nc.publish(hostStatsWatchSubject(queue));
  }

  async read(): Promise<Reading> {
    const info = await queueInfo(this.#nc, this.title).catch(() => undefined);
    const now = Date.now();
    const hosts: HostReading[] = [];
    let perMessage = 0;
    let serving = 0;
    for (const [id, h] of this.#hosts) {
      if (now - h.time > FORGET_AFTER) {
        this.#hosts.delete(id);
        continue;
      }
      hosts.push({
        id: h.id,
        name: h.name,
        threads: h.threads,
        running: h.running,
        completed: h.completed,
        failed: h.failed,
        crashes: h.crashes,
        busyTime: h.busyTime,
        threadTime: h.threadTime,
        time: h.time,
        state: hostState(h.state),
      });
      if (h.state === 'running') {
        perMessage += h.jobsPerMessage;
        serving++;
      }
    }
    const jobs = this.#jobs;
    this.#jobs = [];
    const parts = jobs.map(({ host, jobs: settled }) => readingOfJobs(host, settled));
    const client = this.#client?.stats();
    const messages = info === undefined ? 0 : info.pending + info.inFlight;
    return {
      hosts,
      totals: client === undefined ? null : { completed: client.completed, failed: client.failed },
      queue:
        info === undefined
          ? null
          : { pending: info.pending, inFlight: info.inFlight, redelivered: info.redelivered },
      remaining:
        client !== undefined
          ? client.queued + client.running
          : info === undefined
            ? null
            : Math.round(messages * (serving > 0 ? perMessage / serving : 1)),
      jobs: parts.flatMap((p) => p.jobs),
      failures: parts.flatMap((p) => p.failures),
      runTimes: parts.flatMap((p) => p.runTimes),
    };
  }

  close(): Promise<void> {
    this.#subscription.unsubscribe();
    return Promise.resolve();
  }
}

function hostState(state: HostStatsState): HostReading['state'] {
  return state === 'running' ? 'serving' : state === 'draining' ? 'draining' : 'left';
}

/** A snapshot, or undefined if it is not one this version reads. */
function parse(data: Uint8Array): HostStatsMessage | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<HostStatsMessage>;
    if (
      typeof value.id !== 'string' ||
      typeof value.name !== 'string' ||
      typeof value.time !== 'number' ||
      !Array.isArray(value.jobs)
    )
      return undefined;
    return value as HostStatsMessage;
  } catch {
    return undefined;
  }
}
