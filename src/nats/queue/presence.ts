/**
 * Who serves a queue: each host rewrites a small record of itself every few seconds in the
 * queue's hosts stream (one subject per host, one message per subject, a short `max_age`),
 * and deletes it when it stops. The stream is file-backed, so records outlive a server
 * restart; a write that finds the stream gone (a queue made before it was, or a store
 * lost) makes the queue's streams again and writes once more. A write that fails is
 * counted and its error kept ({@link PresenceWriter.failures}), never only swallowed. Nothing depends on it for correctness: JetStream's consumer
 * decides who gets which job. It answers `corral queue info` ("hosts seen") and lets a
 * client check that the hosts know a task before sending it.
 *
 * @module
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { isNoResponders } from '../shared/jetstream-errors.js';
import { isMissing, PRESENCE_TTL, type QueueLayout } from './layout.js';

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
  /** Makes the queue's streams again where they are missing. */
  readonly #recreate: () => Promise<unknown>;
  #timer: NodeJS.Timeout | undefined;
  /** The write in progress, awaited by stop() so that it cannot land after the delete. */
  #writing: Promise<void> = Promise.resolve();
  /** Writes that failed, even once retried. */
  failures = 0;
  /** Why the latest failed write failed. */
  lastError: unknown;

  constructor(
    js: JetStreamClient,
    layout: QueueLayout,
    hostId: string,
    read: () => HostPresence,
    recreate: () => Promise<unknown>,
  ) {
    this.#js = js;
    this.#subject = layout.hostSubject(hostId);
    this.#read = read;
    this.#recreate = recreate;
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
        await this.#publish();
      } catch (error) {
        if (!isNoResponders(error) && !isMissing(error)) {
          this.#failed(error);
          return;
        }
        // No stream takes the subject: make it again, then write once more.
        try {
          await this.#recreate();
          await this.#publish();
        } catch (again) {
          this.#failed(again);
        }
      }
    });
  }

  async #publish(): Promise<void> {
    await this.#js.publish(this.#subject, JSON.stringify(this.#read()));
  }

  /** The next write, or the record's expiry, puts it right; meanwhile it is counted. */
  #failed(error: unknown): void {
    this.failures++;
    this.lastError = error;
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
