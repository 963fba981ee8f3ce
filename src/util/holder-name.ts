/**
 * How this process names itself to a governor: `host:pid`, the name a slot's entry shows
 * (e.g. in `corral governor view`) when the caller gives none. One definition, so the
 * pool's gate, the NATS governor and the CLI show the same process the same way.
 */
import { hostname } from 'node:os';

/** `${hostname()}:${process.pid}`, e.g. `build-7:41230`. */
export function holderName(): string {
  return `${hostname()}:${process.pid}`;
}
