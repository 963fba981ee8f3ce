/**
 * Campaigner processes for the tests across OS processes: each runs
 * test/fixtures/nats-campaigner.mjs against the built package, and logs to the outside
 * observer's append-only file (see observer.ts).
 */
import { spawn } from 'node:child_process';

const FIXTURE = new URL('../fixtures/nats-campaigner.mjs', import.meta.url).pathname;

/** How a campaigner holds its slot; see the fixture. */
export type CampaignerMode = 'refresh' | 'no-refresh' | 'fast' | 'max-per-period';

/** What a campaigner process said and how it ended. */
export interface CampaignerExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly output: string;
}

/** A running campaigner process. */
export interface Campaigner {
  /** Resolves once the process ends, with what it wrote. */
  readonly exited: Promise<CampaignerExit>;
  /** Resolves when the process is about to campaign. */
  readonly campaigning: Promise<void>;
  /** Resolves when the process says it holds a slot. */
  readonly granted: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts a campaigner for `governor` on the server at `url`, holding a slot for `holdMs`. */
export function campaigner(
  url: string,
  governor: string,
  log: string,
  holdMs: number,
  mode: CampaignerMode,
): Campaigner {
  const child = spawn(process.execPath, [FIXTURE, url, governor, log, String(holdMs), mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let onCampaigning: () => void = () => undefined;
  let onGranted: () => void = () => undefined;
  const campaigning = new Promise<void>((resolve) => (onCampaigning = resolve));
  const granted = new Promise<void>((resolve) => (onGranted = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('campaigning')) onCampaigning();
    if (output.includes('granted')) onGranted();
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<CampaignerExit>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal, output });
    }),
  );
  return { exited, campaigning, granted, kill: (signal) => child.kill(signal) };
}
