/// <reference lib="dom" />
/**
 * The dashboard page's script (compiled by the package's build, served as `/app.js`). It
 * keeps only what the server sent: a `snapshot` on (re)connect replaces everything, each
 * `tick` adds to it. Every string from the server is set as `textContent`, never as HTML.
 *
 * @module
 */
import type UPlot from 'uplot';
import {
  HIST_BUCKETS,
  HIST_LOW,
  MAX_FAILURES,
  SERIES_POINTS,
  STREAM_JOBS,
  STREAM_MS,
  type Failure,
  type HostRow,
  type JobSpan,
  type Snapshot,
  type Tick,
} from '../model.js';

/** uPlot, loaded by its own script tag before this one. */
const uPlot = (globalThis as unknown as { uPlot: typeof UPlot }).uPlot;

const PALETTE = ['#e6862e', '#2f7de1', '#8e5ad6', '#2e9d5b', '#d6a11f', '#1fa5b3', '#c2519a'];
const FAILED = '#d64545';
/** Failures listed (the server keeps more: a reload shows the same). */
const SHOWN_FAILURES = 10;

/** What the page shows, all of it from the server. */
let series = { time: [] as number[], completed: [] as number[], failed: [] as number[] };
let jobs: JobSpan[] = [];
let failures: Failure[] = [];
let last: Tick | null = null;
/** Colours of tasks, in order of first appearance. */
const colours = new Map<string, string>();

function colour(task: string): string {
  let c = colours.get(task);
  if (c === undefined) {
    c = PALETTE[colours.size % PALETTE.length] ?? '#888';
    colours.set(task, c);
  }
  return c;
}

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing`);
  return element;
}

function setText(id: string, text: string): void {
  byId(id).textContent = text;
}

function el(tag: string, text?: string, className?: string): HTMLElement {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  if (className !== undefined) element.className = className;
  return element;
}

const numbers = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
function num(n: number): string {
  return numbers.format(n);
}

function duration(ms: number): string {
  if (ms < 1) return `${num(ms * 1000)} µs`;
  if (ms < 1000) return `${num(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${num(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function ago(ms: number): string {
  return ms < 1000 ? 'now' : `${duration(Math.round(ms / 1000) * 1000)} ago`;
}

function clock(epoch: number): string {
  return new Date(epoch).toLocaleTimeString('en-GB');
}

// ---------------------------------------------------------------- state

function reset(snapshot: Snapshot): void {
  series = {
    time: snapshot.series.time.map((t) => t / 1000),
    completed: [...snapshot.series.completed],
    failed: [...snapshot.series.failed],
  };
  jobs = [...snapshot.jobs];
  failures = [...snapshot.failures];
  last = snapshot.last;
  setText('title', snapshot.title);
  document.title = `corral dashboard: ${snapshot.title}`;
}

function apply(tick: Tick): void {
  series.time.push(tick.time / 1000);
  series.completed.push(tick.rate.completed);
  series.failed.push(tick.rate.failed);
  if (series.time.length > SERIES_POINTS) {
    series.time.shift();
    series.completed.shift();
    series.failed.shift();
  }
  jobs.push(...tick.jobs);
  const since = tick.time - STREAM_MS;
  jobs = jobs.filter((j) => j.end >= since).slice(-STREAM_JOBS);
  failures = [...tick.failures, ...failures].slice(0, MAX_FAILURES);
  last = tick;
}

// ---------------------------------------------------------------- rendering

function render(): void {
  renderThroughput();
  if (last === null) return;
  setText('updated', clock(last.time));
  renderCards(last);
  renderBatch(last);
  renderHosts(last.hosts, last.time);
  renderHistogram(last);
  renderStream(last.time);
  renderFailures();
}

function renderCards(tick: Tick): void {
  // A local pool has no queue.
  document.querySelectorAll<HTMLElement>('.card.queue').forEach((card) => {
    card.hidden = tick.queue === null;
  });
  setText('completed', num(tick.completed));
  setText('failed', num(tick.failed));
  setText('rate', num(tick.rate.completed + tick.rate.failed));
  setText('pending', tick.queue === null ? '–' : num(tick.queue.pending));
  setText('in-flight', tick.queue === null ? '–' : num(tick.queue.inFlight));
  setText('redelivered', tick.queue === null ? '–' : num(tick.queue.redelivered));
}

function renderBatch(tick: Tick): void {
  const section = byId('batch');
  const batch = tick.batch;
  section.dataset['active'] = String(batch !== null);
  if (batch === null) {
    byId('batch-bar').style.width = '0';
    setText('batch-text', 'no batch in progress');
    return;
  }
  const share = batch.total > 0 ? batch.done / batch.total : 0;
  byId('batch-bar').style.width = `${(share * 100).toFixed(1)}%`;
  const eta = batch.eta === null ? 'estimating time left' : `about ${duration(batch.eta)} left`;
  setText(
    'batch-text',
    `${num(batch.done)} of ${num(batch.total)} jobs done (${Math.floor(share * 100)}%), ${eta}`,
  );
}

function renderHosts(hosts: readonly HostRow[], now: number): void {
  const body = document.createElement('tbody');
  for (const h of hosts) {
    const row = document.createElement('tr');
    row.dataset['hostId'] = h.id;
    row.dataset['state'] = h.state;
    row.append(el('td', h.name, 'name'), el('td', num(h.threads), 'num'));
    const util = el('td');
    const bar = el('span', undefined, 'util');
    const fill = el('div');
    fill.style.width = `${Math.round(h.utilization * 100)}%`;
    bar.append(fill);
    util.append(bar, document.createTextNode(`${Math.round(h.utilization * 100)}%`));
    row.append(
      util,
      el('td', num(h.jobsPerSec), 'num'),
      el('td', num(h.running), 'num'),
      el('td', num(h.completed), 'num'),
      el('td', num(h.failed), 'num'),
      el('td', num(h.crashes), 'num'),
      el('td', ago(now - h.lastSeen)),
    );
    const state = el('td');
    state.append(el('span', h.state, 'state'));
    row.append(state);
    body.append(row);
  }
  byId('hosts').querySelector('tbody')?.replaceWith(body);
}

function renderFailures(): void {
  const body = document.createElement('tbody');
  for (const f of failures.slice(0, SHOWN_FAILURES)) {
    const row = document.createElement('tr');
    row.append(
      el('td', clock(f.time)),
      el('td', f.host, 'name'),
      el('td', f.task, 'name'),
      el('td', f.code, 'code'),
      el('td', f.message, 'message'),
    );
    body.append(row);
  }
  byId('failures').querySelector('tbody')?.replaceWith(body);
  byId('no-failures').hidden = failures.length > 0;
}

let throughput: UPlot | undefined;

function chartWidth(id: string): number {
  return Math.max(300, byId(id).clientWidth);
}

function renderThroughput(): void {
  const data: UPlot.AlignedData = [series.time, series.completed, series.failed];
  byId('throughput').dataset['points'] = String(series.time.length);
  if (throughput === undefined) {
    throughput = new uPlot(
      {
        width: chartWidth('throughput'),
        height: 220,
        legend: { live: false },
        cursor: { show: false },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        series: [
          {},
          {
            label: 'completed / s',
            stroke: '#2f7de1',
            fill: 'rgba(47,125,225,0.12)',
            width: 2,
            points: { show: false },
          },
          {
            label: 'failed / s',
            stroke: FAILED,
            fill: 'rgba(214,69,69,0.12)',
            width: 2,
            points: { show: false },
          },
        ],
      },
      data,
      byId('throughput'),
    );
  } else throughput.setData(data);
}

let histogram: UPlot | undefined;
/** The tasks the histogram chart was made for: a new task makes a new chart. */
let histogramTasks = '';

function bucketLabel(i: number): string {
  return duration(2 ** (i + HIST_LOW));
}

function renderHistogram(tick: Tick): void {
  const tasks = Object.keys(tick.histograms).sort();
  // Only the buckets from the fastest to the slowest run, and one either side.
  let low = HIST_BUCKETS;
  let high = -1;
  for (const counts of Object.values(tick.histograms)) {
    counts.forEach((n, i) => {
      if (n > 0) {
        low = Math.min(low, i);
        high = Math.max(high, i);
      }
    });
  }
  if (high < 0) [low, high] = [10, 14];
  low = Math.max(0, low - 1);
  high = Math.min(HIST_BUCKETS - 1, high + 1);
  const x = Array.from({ length: high - low + 1 }, (_, i) => low + i);
  const data: UPlot.AlignedData = [
    x,
    ...tasks.map((t) => x.map((i) => tick.histograms[t]?.[i] ?? 0)),
  ];
  const key = JSON.stringify(tasks);
  if (histogram !== undefined && key === histogramTasks) {
    histogram.setData(data);
    return;
  }
  histogram?.destroy();
  histogramTasks = key;
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  histogram = new uPlot(
    {
      width: chartWidth('histogram'),
      height: 220,
      legend: { live: false },
      cursor: { show: false },
      scales: { x: { time: false } },
      axes: [
        {
          values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? bucketLabel(i) : '')),
          space: 50,
        },
        {},
      ],
      series: [
        { label: 'run time up to' },
        ...tasks.map((task) => ({
          label: task,
          stroke: colour(task),
          fill: `${colour(task)}33`,
          width: 2,
          points: { show: false },
          ...(stepped === undefined ? {} : { paths: stepped }),
        })),
      ],
    },
    data,
    byId('histogram'),
  );
}

function renderStream(now: number): void {
  const canvas = byId('stream') as HTMLCanvasElement;
  const lanes = [...new Set(jobs.map((j) => j.lane))].sort();
  const laneHeight = 18;
  const top = 4;
  const axis = 18;
  const labels = 130;
  const cssWidth = canvas.clientWidth || 800;
  const cssHeight = top + Math.max(1, lanes.length) * laneHeight + axis;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(cssWidth * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  canvas.style.height = `${cssHeight}px`;
  const g = canvas.getContext('2d');
  if (g === null) return;
  g.scale(ratio, ratio);
  g.clearRect(0, 0, cssWidth, cssHeight);
  g.font = '12px ui-monospace, monospace';
  g.textBaseline = 'middle';
  const from = now - STREAM_MS;
  const width = cssWidth - labels - 8;
  const xOf = (t: number): number => labels + ((t - from) / STREAM_MS) * width;
  lanes.forEach((lane, i) => {
    const y = top + i * laneHeight;
    g.fillStyle = i % 2 === 0 ? '#f7f8fa' : '#ffffff';
    g.fillRect(labels, y, width, laneHeight);
    g.fillStyle = '#6b7385';
    g.fillText(lane.length > 18 ? `…${lane.slice(-17)}` : lane, 4, y + laneHeight / 2);
  });
  const laneOf = new Map(lanes.map((lane, i) => [lane, i]));
  for (const j of jobs) {
    const i = laneOf.get(j.lane) ?? 0;
    const x0 = xOf(Math.max(from, j.start));
    const x1 = Math.max(x0 + 1, xOf(j.end));
    g.fillStyle = j.ok ? colour(j.task) : FAILED;
    g.fillRect(x0, top + i * laneHeight + 2, x1 - x0, laneHeight - 4);
  }
  const axisY = top + Math.max(1, lanes.length) * laneHeight;
  g.fillStyle = '#6b7385';
  for (let s = 0; s <= STREAM_MS / 1000; s += 10) {
    const x = xOf(now - s * 1000);
    g.fillRect(x, axisY, 1, 4);
    g.fillText(s === 0 ? 'now' : `-${s} s`, Math.min(x - 10, cssWidth - 30), axisY + 11);
  }
  const legend = document.createElement('ul');
  legend.id = 'legend';
  for (const task of [...new Set(jobs.map((j) => j.task))].sort()) {
    const item = el('li');
    const chip = el('span');
    chip.style.background = colour(task);
    item.append(chip, document.createTextNode(task));
    legend.append(item);
  }
  const failed = el('li');
  const chip = el('span');
  chip.style.background = FAILED;
  failed.append(chip, document.createTextNode('failed'));
  legend.append(failed);
  byId('legend').replaceWith(legend);
}

// ---------------------------------------------------------------- the event stream

function setStatus(status: 'connecting' | 'live' | 'reconnecting'): void {
  const element = byId('status');
  element.dataset['status'] = status;
  element.textContent = status;
}

function connect(): void {
  const source = new EventSource('/events');
  source.addEventListener('snapshot', (event) => {
    reset(JSON.parse((event as MessageEvent<string>).data) as Snapshot);
    setStatus('live');
    render();
  });
  source.addEventListener('tick', (event) => {
    apply(JSON.parse((event as MessageEvent<string>).data) as Tick);
    setStatus('live');
    render();
  });
  source.addEventListener('error', () => {
    setStatus('reconnecting');
    // The browser retries by itself unless the stream was refused outright.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 1000);
  });
}

window.addEventListener('resize', () => {
  throughput?.setSize({ width: chartWidth('throughput'), height: 220 });
  histogram?.setSize({ width: chartWidth('histogram'), height: 220 });
  if (last !== null) renderStream(last.time);
});

connect();
