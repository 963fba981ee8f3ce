/**
 * A worker in a child process (`isolation: 'process'`), standing in for a `Worker` behind
 * a {@link ThreadHandle}: the handle keeps its own `MessageChannel` and talks to one end as
 * to a thread's port; this class carries the other end's messages to the child by IPC, and
 * the child's frames (`src/protocol/process-frames.ts`) back into it. The crash counters the
 * child sends are stored in the handle's own counters, which triage reads as a thread's.
 * The child's `'close'` (every frame read) is reported as the worker's `'exit'`. The child's
 * stdout and stderr are pipes relayed into this process's own, as Node relays a thread's,
 * so the handle's `StdioWatch` counts what arrived (see `workers/stdio.ts`): sharing this
 * process's descriptors instead let the child's writes be lost when it was killed, and
 * the child's libuv made the shared pipe non-blocking under this process's own writes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';
import {
  FINISHED,
  STARTED,
  type BootData,
  type ResultsMessage,
  type ToWorker,
} from '../protocol/messages.js';
import {
  FrameReader,
  messageFrame,
  type ChildBoot,
  type ControlFrame,
  type FromChild,
  type ToChild,
} from '../protocol/process-frames.js';
import { fromWire } from '../protocol/wire-error.js';
import { WorkerCrashedError } from '../pool/errors.js';
import { relayLines } from './process-output.js';
import type { ResolvedOptions } from '../pool/options.js';

const entry = new URL('../../workers/process-entry.js', import.meta.url);

/** Child processes alive, killed if this process exits first (none may outlive it). */
const alive = new Set<ChildProcess>();
let exitHook = false;

function track(child: ChildProcess): void {
  alive.add(child);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const c of alive) c.kill('SIGKILL');
  });
}

/** Flags of this process's that would run something else than the entry in a child. */
const NOT_INHERITED = new Set(['-e', '--eval', '-p', '--print', '-i', '--interactive', '--test']);

/**
 * This process's flags for a child, as a thread takes them, less those that name what to
 * run (`node -e script` would run the script again in the child, not the entry).
 */
function inheritedFlags(): string[] {
  const flags: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const name = flag.split('=')[0] as string;
    if (name === '--input-type') continue;
    if (NOT_INHERITED.has(name)) {
      // `-e script` / `--eval script`: the script is the next argument.
      if (!flag.includes('=') && name !== '-i' && name !== '--interactive' && name !== '--test')
        i++;
      continue;
    }
    flags.push(flag);
  }
  return flags;
}

/** The Node flags that give a child process the heap limits `resourceLimits` sets for a thread. */
function limitFlags(options: ResolvedOptions): string[] {
  const limits = options.resourceLimits;
  if (limits === undefined) return [];
  const flags: string[] = [];
  if (limits.maxOldGenerationSizeMb !== undefined) {
    flags.push(`--max-old-space-size=${String(limits.maxOldGenerationSizeMb)}`);
  }
  if (limits.maxYoungGenerationSizeMb !== undefined) {
    // V8's young generation is three semi-spaces.
    const semi = Math.max(1, Math.round(limits.maxYoungGenerationSizeMb / 3));
    flags.push(`--max-semi-space-size=${String(semi)}`);
  }
  return flags;
}

/** The thread's boot data less its port and counters, which stay in this process. */
function childBoot(boot: BootData): ChildBoot {
  const child: Partial<BootData> = { ...boot };
  delete child.port;
  delete child.progress;
  return child as ChildBoot;
}

/** What a {@link ThreadHandle} needs of a worker: Node's `Worker` has it, and so does this. */
export class ProcessWorker extends EventEmitter {
  /** The child's pid (a process has no thread id): what `stats()` and the events name it by. */
  readonly threadId: number;
  /** The child's stdout and stderr, relayed into this process's (see the class's doc). */
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly #child: ChildProcess;
  /** The handle's end's partner: what the handle posts arrives here. */
  readonly #port: MessagePort;
  /** The keyed targets' counters as the pool has them (see `CountsFrame`). */
  #counters: Int32Array;
  /** Keys the child knows: while none, no counters are sent. */
  #keys: number;
  #killed = false;
  /** Results read and not yet passed on (see {@link #fromChild}). */
  #results: ResultsMessage | undefined;
  /** Cancels and steals sent so far (see `ControlFrame`). */
  #controls = 0;
  /** The child's uncaught error, when it said. */
  #error: unknown;
  #code: number | null = null;
  #signal: NodeJS.Signals | null = null;

  /**
   * Forks the child and boots it with `boot`; `port` is the handle's port's other end.
   * Throws a `DataCloneError` if `workerData` cannot be copied.
   */
  constructor(boot: BootData, port: MessagePort, options: ResolvedOptions) {
    super();
    // Checked here, as `new Worker` does, not later when the boot message is sent.
    structuredClone(boot.workerData);
    this.#port = port;
    this.#counters = boot.keyCounters;
    this.#keys = boot.keySlots.length;
    const progress = boot.progress;
    const child = fork(entry, [], {
      execArgv: [...(options.execArgv ?? inheritedFlags()), ...limitFlags(options)],
      serialization: 'advanced',
      stdio: ['inherit', 'pipe', 'pipe', 'pipe', 'pipe', 'ipc'],
    });
    this.#child = child;
    this.stdout = child.stdout as Readable;
    this.stderr = child.stderr as Readable;
    // Before the handle's watch listens: a chunk it sees has been handed to this process's.
    relayLines(this.stdout, process.stdout);
    relayLines(this.stderr, process.stderr);
    this.threadId = child.pid ?? -1;
    track(child);
    const reader = new FrameReader<FromChild>(
      (message) => {
        this.#fromChild(message);
      },
      (started, finished) => {
        Atomics.store(progress, STARTED, started);
        Atomics.store(progress, FINISHED, finished);
      },
    );
    // A pipe reset as the child dies (a cancel it never read) says nothing 'close' will not.
    for (const fd of [3, 4]) (child.stdio[fd] as Readable | null)?.on('error', () => undefined);
    const pipe = child.stdio[3] as Readable;
    pipe.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      this.#flushResults();
    });
    child.on('error', (error) => {
      this.#error ??= error;
    });
    child.on('exit', (code, signal) => {
      this.#code = code;
      this.#signal = signal;
    });
    child.on('close', () => {
      this.#closed();
    });
    port.on('message', (message: ToWorker) => {
      this.#toChild(message);
    });
    port.unref();
    this.#send({ type: 'boot', boot: childBoot(boot) });
  }

  ref(): void {
    this.#child.ref();
    this.#child.channel?.ref();
    for (const pipe of this.#pipes()) pipe.ref();
  }

  unref(): void {
    this.#child.unref();
    this.#child.channel?.unref();
    for (const pipe of this.#pipes()) pipe.unref();
  }

  /** The child's pipes (stdout, stderr, fd 3 and 4), which keep this process alive like the child. */
  #pipes(): { ref(): void; unref(): void }[] {
    const stdio = this.#child.stdio as unknown as ({ ref(): void; unref(): void } | null)[];
    return [stdio[1], stdio[2], stdio[3], stdio[4]].filter((p) => p !== null && p !== undefined);
  }

  /** Kills the child (SIGKILL), where a thread would be terminated; `'exit'` follows. */
  terminate(): Promise<void> {
    this.#killed = true;
    this.#child.kill('SIGKILL');
    return Promise.resolve();
  }

  #toChild(message: ToWorker): void {
    if (message.type === 'cancel' || message.type === 'steal') {
      // Both ways: fd 4 is read right before each job, IPC when the child is idle.
      const control: ControlFrame = { type: 'control', seq: ++this.#controls, message };
      (this.#child.stdio[4] as Writable | null)?.write(messageFrame(control));
      this.#send(control);
      return;
    }
    if (message.type === 'key') {
      this.#keys++;
      if (message.counters !== undefined) this.#counters = message.counters;
    } else if (message.type === 'run' && this.#keys > 0) {
      this.#send({ type: 'counts', values: this.#counters });
    }
    this.#send(message);
  }

  #send(message: ToChild): void {
    if (!this.#child.connected) return;
    // A child that died meanwhile: its 'close' tells the handle, with its exit code or
    // signal. The failed write (EPIPE) says less, so it is not kept as the error; the
    // callback keeps it from being emitted as the child's 'error'.
    this.#child.send(message, () => undefined);
  }

  #fromChild(message: FromChild): void {
    if (message.type === 'results') {
      // The child writes each outcome alone; what came in one read goes on as one batch.
      const held = this.#results;
      if (held === undefined) this.#results = message;
      else {
        held.batch = held.batch.concat(message.batch);
        held.busy += message.busy;
        if (message.stdio !== undefined) held.stdio = message.stdio; // covers the earlier
      }
      return;
    }
    this.#flushResults();
    if (message.type === 'uncaught') {
      this.#error = fromWire(message.error);
      return;
    }
    this.#port.postMessage(message);
  }

  /** Passes on the results gathered from the frames read so far. */
  #flushResults(): void {
    const results = this.#results;
    if (results === undefined) return;
    this.#results = undefined;
    this.#port.postMessage(results);
  }

  #closed(): void {
    alive.delete(this.#child);
    if (!this.#killed) this.emit('error', this.#error ?? this.#exitError());
    this.emit('exit', this.#code ?? 1);
  }

  #exitError(): Error {
    const pid = String(this.threadId);
    return new WorkerCrashedError(
      this.#signal === null
        ? `the worker process ${pid} exited with code ${String(this.#code)}`
        : `the worker process ${pid} was killed by ${this.#signal}`,
    );
  }
}
