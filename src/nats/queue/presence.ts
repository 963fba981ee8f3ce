/**
 * Who serves a queue: each host rewrites a small record of itself every few seconds in the
 * queue's hosts stream (one subject per host, one message per subject, a short `max_age`),
 * and deletes it when it stops. Nothing depends on it for correctness: JetStream's consumer
 * decides who gets which job. It answers `corral queue info` ("hosts seen") and lets a
 * client check that the hosts know a task before sending it.
 *
 * @module
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { PRESENCE_TTL, type QueueLayout } from './layout.js';

/** What a host says about itself. */
export interface HostPresence {
  /** The host's id, unique per `serve()`. */
  readonly id: string;
  /** `hostname:pid`, or the name the host was given. */
  readonly name: string;
  readonly threads: number;
  /** The task module's tasks. */
  readonly tasks: readonly string[];
  /** Epoch ms when the host started taking jobs. */
  readonly started: number;
  /** Epoch ms of this record. */
  readonly updated: number;
  /** Jobs the host has reported (any outcome). */
  readonly reported: number;
  /** Job messages it holds now. */
  readonly held: number;
  /** It is draining: finishing what it holds, taking nothing new. */
  readonly draining: boolean;
}

/** How often a host rewrites its record, in ms. */
export const PRESENCE_INTERVAL = Math.floor(PRESENCE_TTL / 5);

/** Writes a host's record now and every {@link PRESENCE_INTERVAL}, until stopped. */
export class PresenceWriter {
  readonly #js: JetStreamClient;
  readonly #subject: string;
  readonly #read: () => HostPresence;
  #timer: NodeJS.Timeout | undefined;
  /** The write in progress, awaited by stop() so that it cannot land after the delete. */
  #writing: Promise<void> = Promise.resolve();

  constructor(js: JetStreamClient, layout: QueueLayout, hostId: string, read: () => HostPresence) {
    this.#js = js;
    this.#subject = layout.hostSubject(hostId);
    this.#read = read;
  }

  /** Writes the record now and then periodically. */
  start(): void {
    this.write();
    this.#timer = setInterval(() => {
      this.write();
    }, PRESENCE_INTERVAL);
    // Presence alone must not keep a process alive.
    this.#timer.unref();
  }

  /** Writes the record now (e.g. when the host starts draining). Never rejects. */
  write(): void {
    this.#writing = this.#writing.then(async () => {
      try {
        await this.#js.publish(this.#subject, JSON.stringify(this.#read()));
      } catch {
        // Best effort: the next write, or the record's expiry, puts it right.
      }
    });
  }

  /** Stops writing and deletes the record. Never rejects. */
  async stop(jsm: JetStreamManager, stream: string): Promise<void> {
    clearInterval(this.#timer);
    await this.#writing;
    await jsm.streams.purge(stream, { filter: this.#subject }).catch(() => undefined);
  }
}

/** The records of the hosts seen in the last {@link PRESENCE_TTL} ms, oldest first. */
export async function readPresence(
  jsm: JetStreamManager,
  layout: QueueLayout,
): Promise<HostPresence[]> {
  const info = await jsm.streams.info(layout.hostsStream, {
    subjects_filter: layout.hostSubject('*'),
  });
  const hosts: HostPresence[] = [];
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const message = await jsm.streams
      .getMessage(layout.hostsStream, { last_by_subj: subject })
      .catch(() => null);
    if (message === null) continue;
    try {
      hosts.push(message.json<HostPresence>());
    } catch {
      // Not a record this version wrote.
    }
  }
  return hosts.sort((a, b) => a.started - b.started);
}
