// @ts-check
/**
 * The task code every contestant runs, so that only the pool differs. Each pool's worker entry in
 * `bench/workers/` re-exports these in the shape that pool wants.
 */

/** Inner iterations of {@link chunk}; `cpu(iters)` costs about `iters` times one chunk. */
const CHUNK = 1000;

/**
 * The small hot function the CPU task calls repeatedly. On Node 20 one long loop inside a task is
 * sometimes left unoptimised in a fresh worker (2.4x slower for the thread's life); a short function
 * called thousands of times is always optimised by call count.
 * @param {number} seed
 * @returns {number}
 */
function chunk(seed) {
  let h = seed | 0;
  for (let i = 0; i < CHUNK; i++) {
    h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + i) | 0;
  }
  return h;
}

/**
 * The tiny task: almost no work, so a pool's per-task overhead is all that is measured.
 * @param {number} n
 * @returns {number}
 */
export function tiny(n) {
  return n + 1;
}

/**
 * The CPU task: `iters` chunks of hashing. The parent calibrates `iters` so that one call takes
 * about 5 ms on this machine.
 * @param {number} iters
 * @returns {number}
 */
export function cpu(iters) {
  let acc = 0;
  for (let i = 0; i < iters; i++) {
    acc = (acc + chunk(i ^ acc)) | 0;
  }
  return acc;
}

/** Distance between the bytes {@link payload} reads. */
const STRIDE = 4096;

/**
 * The payload task: reads a few bytes of the buffer (so the data must really have arrived) without
 * turning into a CPU task. Returns byteLength + the bytes at every 4 KiB + the last byte.
 * @param {Uint8Array} buf
 * @returns {number}
 */
export function payload(buf) {
  let sum = buf.byteLength;
  for (let i = 0; i < buf.length; i += STRIDE) {
    sum += buf[i] ?? 0;
  }
  return sum + (buf[buf.length - 1] ?? 0);
}

/** @typedef {'tiny' | 'cpu' | 'payload'} TaskName */

/** Size of one payload, in bytes. */
export const PAYLOAD_BYTES = 64 * 1024;

/**
 * Builds the `i`-th payload: zeroed except the first and last byte, so that the expected result
 * ({@link expectedPayload}) is cheap to check on the main thread.
 * @param {number} i
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function makePayload(i) {
  const buf = new Uint8Array(PAYLOAD_BYTES);
  buf[0] = i & 0xff;
  buf[PAYLOAD_BYTES - 1] = (i >>> 8) & 0xff;
  return buf;
}

/**
 * What {@link payload} returns for {@link makePayload}(i).
 * @param {number} i
 * @returns {number}
 */
export function expectedPayload(i) {
  return PAYLOAD_BYTES + (i & 0xff) + ((i >>> 8) & 0xff);
}

/**
 * Runs a task by name, for the contestants that dispatch by hand (bare, inline).
 * @param {TaskName} task
 * @param {unknown} arg
 * @returns {number}
 */
export function runTask(task, arg) {
  switch (task) {
    case 'tiny':
      return tiny(/** @type {number} */ (arg));
    case 'cpu':
      return cpu(/** @type {number} */ (arg));
    case 'payload':
      return payload(/** @type {Uint8Array} */ (arg));
    default: {
      /** @type {never} */
      const unknownTask = task;
      throw new Error(`unknown task: ${String(unknownTask)}`);
    }
  }
}
