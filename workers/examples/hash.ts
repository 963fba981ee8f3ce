/**
 * Example task module: CPU-heavy hashing. Each exported function is a task.
 *
 * Run it with `new Pool({ module: new URL('./hash.js', import.meta.url) })`, or from the
 * shell with the demo: `npm run demo`.
 */
import { createHash } from 'node:crypto';
import type { TaskContext } from '../index.js';

/** One record to hash. */
export interface HashInput {
  /** The record's text. */
  data: string;
  /** How many times to re-hash the digest (the work factor). */
  rounds: number;
}

/** SHA-256 of the record, re-hashed `rounds` times; returns the hex digest. */
export function sha256(input: HashInput, ctx?: TaskContext): string {
  let digest = createHash('sha256').update(input.data).digest();
  for (let i = 1; i < input.rounds; i++) {
    digest = createHash('sha256').update(digest).digest();
    if ((i & 1023) === 0 && ctx?.signal.aborted === true) throw ctx.signal.reason;
  }
  return digest.toString('hex');
}

export default sha256;
