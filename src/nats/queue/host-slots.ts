/**
 * A client's count of the thread slots serving its queue, from the hosts' presence records:
 * how many messages the work of a batch's end is shared among, which sizes the client's
 * messages (see {@link jobsPerMessage}). Read when the client asks and the last reading is
 * older than {@link REFRESH_MS}, never on a timer: a client with nothing to send reads
 * nothing.
 *
 * @module
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { QueueLayout } from './layout.js';
import { readPresence, type HostPresence } from './presence.js';

/** How old a reading may be before the next request reads again, in ms. */
export const REFRESH_MS = 5000;
/** The same after a reading that found no host (or failed): hosts are likely starting. */
export const RETRY_MS = 250;

/** Thread slots of the live hosts that take work (draining ones do not), at least 1. */
export function slotsOf(hosts: readonly HostPresence[]): number {
  let slots = 0;
  for (const host of hosts) {
    if (!host.draining && Number.isFinite(host.threads)) slots += Math.max(0, host.threads);
  }
  return Math.max(1, slots);
}

/** The latest count of the queue's thread slots; undefined until one was read. */
export class HostSlots {
  readonly #manager: () => Promise<JetStreamManager>;
  readonly #layout: QueueLayout;
  /** Thread slots as last read. */
  #slots: number | undefined;
  /** When a request may start the next reading, epoch ms. */
  #nextAt = -Infinity;
  #reading = false;

  constructor(manager: () => Promise<JetStreamManager>, layout: QueueLayout) {
    this.#manager = manager;
    this.#layout = layout;
  }

  /** The slots as last read (undefined: not yet); starts a new reading if that one is old. */
  get value(): number | undefined {
    this.refresh();
    return this.#slots;
  }

  /** Starts a reading unless one is under way or the last is recent. */
  refresh(): void {
    if (!this.#reading && Date.now() >= this.#nextAt) void this.#read();
  }

  async #read(): Promise<void> {
    this.#reading = true;
    const started = Date.now();
    let found = false;
    try {
      const hosts = await readPresence(await this.#manager(), this.#layout);
      // No host yet: keep the last count (or none: the cautious spread), read again soon.
      found = hosts.length > 0;
      if (found) this.#slots = slotsOf(hosts);
    } catch {
      // Cannot read now (server restarting): keep the last count, read again soon.
    } finally {
      this.#reading = false;
      this.#nextAt = started + (found ? REFRESH_MS : RETRY_MS);
    }
  }
}
