/**
 * `registerMetrics`: a pool's (or a remote pool's, or a queue's) metrics in a prom-client
 * registry. One set of metrics per registry, shared by every source registered in it; each
 * source's series carry its own labels (`pool` or `queue`, and `host`), so two pools in
 * one registry stay apart. Counts come from the pool's job records (src/metrics/tally.ts)
 * and its `stats()`, read when the registry is scraped.
 *
 * @module
 */
import { hostname } from 'node:os';
import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import { InvalidOptionError } from '../util/errors.js';
import { checkFunction, checkObject } from '../util/validate.js';
import { observeTally, type JobTallyListener } from '../observe/job-record.js';
import type { PoolStats } from '../pool/stats.js';
import { JOB_SECONDS_BUCKETS, JobTally, type SecondsTally } from './tally.js';

/** What {@link registerMetrics} needs of a local `Pool`. */
export interface MetricsPool {
  [observeTally](listener: JobTallyListener): () => void;
  stats(): PoolStats;
}

/** What {@link registerMetrics} needs of a `RemotePool` (from `corral/nats`). */
export interface MetricsRemotePool {
  readonly queue: string;
  stats(): { queued: number; running: number; completed: number; failed: number; retried: number };
}

/** A work queue's state, as `queueInfo()` of `corral/nats` gives it. */
export interface MetricsQueueInfo {
  /** Job messages not yet delivered to a host. */
  pending: number;
  /** Job messages delivered and not yet acknowledged. */
  inFlight: number;
  /** Job messages delivered more than once and not yet acknowledged. */
  redelivered: number;
  /** The hosts that announced themselves. */
  hosts: readonly unknown[];
}

/** Options of {@link registerMetrics}. */
export interface MetricsOptions {
  /** Where the metrics go. @default prom-client's default registry (`register`) */
  registry?: Registry;
  /**
   * The labels of this source's series. A local pool is labelled `pool` (by default
   * `pool-1`, `pool-2`, ... in the order pools register in a registry), a remote pool
   * `queue` (its queue's name); `host` is `os.hostname()` by default. Two sources in one
   * registry must differ in them. For more labels, use the registry's `setDefaultLabels`.
   */
  labels?: { pool?: string; queue?: string; host?: string };
  /**
   * Reads the work queue's state at each scrape, for the queue's gauges
   * (`corral_queue_*`), e.g. `() => queueInfo(nc, 'thumbnails')` with `queueInfo` from
   * `corral/nats`. A read that fails leaves the gauges out of that scrape.
   */
  queueInfo?: () => Promise<MetricsQueueInfo>;
}

type Labels = Record<string, string>;

/** One registered pool, remote pool or queue. */
interface Source {
  readonly labels: Labels;
  /** Outcomes and times, for a local pool. */
  readonly tally: JobTally | undefined;
  /** Counters and gauges, read at scrape time. */
  readonly read: (() => Figures) | undefined;
  readonly queueInfo: (() => Promise<MetricsQueueInfo>) | undefined;
}

/** What a scrape reads of a source. */
interface Figures {
  completed?: number;
  retried: number;
  crashes?: number;
  failed?: number;
  threads?: number;
  queued: number;
  running: number;
  utilization?: number;
}

const LABELS = ['pool', 'queue', 'host'] as const;
type LabelName = (typeof LABELS)[number];

/** The metrics of one registry and the sources they read. */
class MetricSet {
  readonly sources = new Set<Source>();
  /** Local pools registered so far, for the default `pool` label. */
  pools = 0;
  /** The names of the metrics it registered. */
  readonly #names: string[] = [];
  readonly #registry: Registry;

  constructor(registry: Registry) {
    this.#registry = registry;
    const sources = this.sources;
    const registers = [registry];
    const counter = (
      name: string,
      help: string,
      value: (s: Source, f: Figures | undefined) => number | undefined,
    ): void => {
      this.#add(
        new Counter<LabelName>({
          name,
          help,
          labelNames: LABELS,
          registers,
          collect() {
            this.reset();
            for (const s of sources) {
              const v = value(s, s.read?.());
              if (v !== undefined) this.inc(s.labels, v);
            }
          },
        }),
      );
    };
    const gauge = (name: string, help: string, value: (f: Figures) => number | undefined): void => {
      this.#add(
        new Gauge<LabelName>({
          name,
          help,
          labelNames: LABELS,
          registers,
          collect() {
            this.reset();
            for (const s of sources) {
              const f = s.read?.();
              const v = f === undefined ? undefined : value(f);
              if (v !== undefined) this.set(s.labels, v);
            }
          },
        }),
      );
    };
    counter(
      'corral_jobs_completed_total',
      'Jobs that resolved (each input of a chunk counts).',
      (s, f) => s.tally?.completed ?? f?.completed,
    );
    this.#add(
      new Counter<LabelName | 'code'>({
        name: 'corral_jobs_failed_total',
        help: 'Jobs that rejected, by error code (none: the error had no code).',
        labelNames: [...LABELS, 'code'],
        registers,
        collect() {
          this.reset();
          for (const s of sources) {
            if (s.tally !== undefined) {
              for (const [code, n] of s.tally.failed) this.inc({ ...s.labels, code }, n);
            } else {
              const failed = s.read?.().failed;
              if (failed !== undefined) this.inc({ ...s.labels, code: 'none' }, failed);
            }
          }
        },
      }),
    );
    counter(
      'corral_jobs_retried_total',
      'Attempts started again (a crash, a timeout, a retryable error, a lost host).',
      (_, f) => f?.retried,
    );
    counter(
      'corral_thread_crashes_total',
      'Threads that died without being asked to.',
      (_, f) => f?.crashes,
    );
    this.#histogram(
      'corral_job_run_seconds',
      'Time from a thread taking a job to its settling.',
      'run',
    );
    this.#histogram(
      'corral_job_wait_seconds',
      'Time from a job entering the queue to a thread taking it.',
      'wait',
    );
    gauge('corral_threads', 'Worker threads alive.', (f) => f.threads);
    gauge('corral_jobs_queued', 'Jobs not started yet.', (f) => f.queued);
    gauge('corral_jobs_running', 'Jobs started and not settled.', (f) => f.running);
    gauge(
      'corral_thread_utilization',
      "The threads' busy share of their time, 0 to 1, over the pool's recent window (stats().recent).",
      (f) => f.utilization,
    );
    this.#queueGauges(registers);
  }

  #add(metric: Counter | Gauge | Histogram): void {
    this.#names.push((metric as unknown as { name: string }).name);
  }

  /** A histogram whose series are the sources' tallies of `which`, by task. */
  #histogram(name: string, help: string, which: 'run' | 'wait'): void {
    const sources = this.sources;
    const histogram = new TallyHistogram(name, help, [this.#registry], () => {
      const series: [Labels, SecondsTally][] = [];
      for (const s of sources) {
        if (s.tally === undefined) continue;
        for (const [task, t] of s.tally[which]) series.push([{ ...s.labels, task }, t]);
      }
      return series;
    });
    this.#add(histogram);
  }

  #queueGauges(registers: Registry[]): void {
    const sources = this.sources;
    /** The queue infos of the scrape under way: one read per source for all four gauges. */
    let reading: Promise<Map<Source, MetricsQueueInfo>> | undefined;
    const read = (): Promise<Map<Source, MetricsQueueInfo>> => {
      reading ??= (async () => {
        const infos = new Map<Source, MetricsQueueInfo>();
        await Promise.all(
          [...sources].map(async (s) => {
            if (s.queueInfo === undefined) return;
            try {
              infos.set(s, await s.queueInfo());
            } catch {
              // The queue cannot be read now (NATS down, queue gone): no figures this scrape.
            }
          }),
        );
        setImmediate(() => {
          reading = undefined;
        });
        return infos;
      })();
      return reading;
    };
    const gauge = (name: string, help: string, value: (i: MetricsQueueInfo) => number): void => {
      this.#add(
        new Gauge<LabelName>({
          name,
          help,
          labelNames: LABELS,
          registers,
          async collect() {
            this.reset();
            for (const [s, info] of await read()) this.set(s.labels, value(info));
          },
        }),
      );
    };
    gauge(
      'corral_queue_pending_messages',
      'Job messages in the work queue not yet delivered to a host.',
      (i) => i.pending,
    );
    gauge(
      'corral_queue_in_flight_messages',
      'Job messages delivered to a host and not yet acknowledged.',
      (i) => i.inFlight,
    );
    gauge(
      'corral_queue_redelivered_messages',
      'Job messages delivered more than once (their host was lost) and not yet acknowledged.',
      (i) => i.redelivered,
    );
    gauge('corral_queue_hosts', 'Hosts seen serving the queue.', (i) => i.hosts.length);
  }

  /** Takes the metrics out of the registry (its last source is gone). */
  remove(): void {
    for (const name of this.#names) this.#registry.removeSingleMetric(name);
  }
}

/** A prom-client histogram whose values are read from tallies at scrape time. */
class TallyHistogram extends Histogram {
  readonly #series: () => [Labels, SecondsTally][];

  constructor(
    name: string,
    help: string,
    registers: Registry[],
    series: () => [Labels, SecondsTally][],
  ) {
    super({
      name,
      help,
      labelNames: [...LABELS, 'task'],
      buckets: [...JOB_SECONDS_BUCKETS],
      registers,
    });
    this.#series = series;
  }

  /** What the registry writes (prom-client asks for this form first). */
  getForPromString(): Promise<Awaited<ReturnType<Histogram['get']>>> {
    return this.get();
  }

  override get(): Promise<Awaited<ReturnType<Histogram['get']>>> {
    const values: { labels: Labels; value: number; metricName: string }[] = [];
    const name = (this as unknown as { name: string }).name;
    for (const [labels, t] of this.#series()) {
      let acc = 0;
      JOB_SECONDS_BUCKETS.forEach((le, i) => {
        acc += t.counts[i] as number;
        values.push({
          labels: { ...labels, le: String(le) },
          value: acc,
          metricName: `${name}_bucket`,
        });
      });
      values.push({
        labels: { ...labels, le: '+Inf' },
        value: t.count,
        metricName: `${name}_bucket`,
      });
      values.push({ labels, value: t.sum, metricName: `${name}_sum` });
      values.push({ labels, value: t.count, metricName: `${name}_count` });
    }
    return Promise.resolve({
      name,
      help: (this as unknown as { help: string }).help,
      type: 'histogram',
      values,
      aggregator: 'sum',
    } as unknown as Awaited<ReturnType<Histogram['get']>>);
  }
}

const sets = new WeakMap<Registry, MetricSet>();

/**
 * Registers a pool's metrics in a prom-client registry: a local `Pool`, a `RemotePool` of
 * `corral/nats`, or (with `queueInfo`) a work queue's gauges too. Returns a function that
 * takes them out again (the metrics themselves leave the registry with its last source).
 *
 * Counters count from registration. With a local pool, each settled job costs a few
 * additions (one call per job message, through the pool's counting listener); the rest is read at scrape time.
 *
 * @example
 * ```ts
 * import { registerMetrics, serveMetrics } from 'corral/metrics';
 * registerMetrics(pool, { labels: { pool: 'thumbnails' } });
 * const server = await serveMetrics({ port: 9464 }); // http://127.0.0.1:9464/metrics
 * ```
 */
export function registerMetrics(
  target: MetricsPool | MetricsRemotePool,
  options: MetricsOptions = {},
): () => void {
  checkObject('options', options);
  const registry = options.registry ?? defaultRegistry;
  if (options.queueInfo !== undefined) checkFunction('queueInfo', options.queueInfo);
  const local = typeof (target as Partial<MetricsPool>)[observeTally] === 'function';
  const remote = !local && typeof (target as Partial<MetricsRemotePool>).queue === 'string';
  if (!local && !remote) {
    throw new InvalidOptionError('target', 'a Pool or a RemotePool', target);
  }
  let set = sets.get(registry);
  if (set === undefined) sets.set(registry, (set = new MetricSet(registry)));
  const labels = resolveLabels(
    options.labels,
    local ? undefined : (target as MetricsRemotePool).queue,
    set,
  );
  for (const s of set.sources) {
    if (sameLabels(s.labels, labels)) {
      throw new InvalidOptionError(
        'labels',
        'labels that no other pool registered in this registry has',
        options.labels ?? labels,
      );
    }
  }
  let source: Source;
  let stop: () => void = () => undefined;
  if (local) {
    const pool = target as MetricsPool;
    const tally = new JobTally();
    const base = pool.stats();
    source = {
      labels,
      tally,
      read: snapshotReader(() => {
        const s = pool.stats();
        return {
          retried: s.retried - base.retried,
          crashes: s.crashes - base.crashes,
          threads: s.threads,
          queued: s.queued + s.waiting,
          running: s.running,
          utilization: s.recent.utilization,
        };
      }),
      queueInfo: options.queueInfo,
    };
    stop = pool[observeTally](tally);
  } else {
    const pool = target as MetricsRemotePool;
    const base = pool.stats();
    source = {
      labels,
      tally: undefined,
      read: snapshotReader(() => {
        const s = pool.stats();
        return {
          completed: s.completed - base.completed,
          failed: s.failed - base.failed,
          retried: s.retried - base.retried,
          queued: s.queued,
          running: s.running,
        };
      }),
      queueInfo: options.queueInfo,
    };
  }
  set.sources.add(source);
  let registered = true;
  return () => {
    if (!registered) return;
    registered = false;
    stop();
    const current = sets.get(registry);
    current?.sources.delete(source);
    if (current !== undefined && current.sources.size === 0) {
      current.remove();
      sets.delete(registry);
    }
  };
}

/** The source's labels: those given, else the defaults. */
function resolveLabels(
  given: MetricsOptions['labels'],
  queue: string | undefined,
  set: MetricSet,
): Labels {
  if (given !== undefined) {
    const o = checkObject('labels', given);
    for (const [name, value] of Object.entries(o)) {
      if (!(LABELS as readonly string[]).includes(name)) {
        throw new InvalidOptionError(
          `labels.${name}`,
          "absent (the labels are 'pool', 'queue' and 'host')",
          value,
        );
      }
      if (typeof value !== 'string' || value === '') {
        throw new InvalidOptionError(`labels.${name}`, 'a non-empty string', value);
      }
    }
  }
  const labels: Labels = { host: given?.host ?? hostname() };
  if (given?.queue !== undefined || queue !== undefined)
    labels.queue = given?.queue ?? (queue as string);
  if (given?.pool !== undefined) labels.pool = given.pool;
  else if (queue === undefined && given?.queue === undefined) labels.pool = `pool-${++set.pools}`;
  return labels;
}

function sameLabels(a: Labels, b: Labels): boolean {
  return LABELS.every((name) => a[name] === b[name]);
}

/**
 * Reads a source's figures at most once per scrape: the registry collects each metric on
 * its own, and one `stats()` serves them all.
 */
function snapshotReader(read: () => Figures): () => Figures {
  let figures: Figures | undefined;
  return () => {
    if (figures === undefined) {
      figures = read();
      setImmediate(() => {
        figures = undefined;
      });
    }
    return figures;
  };
}
