/** Shared test helpers: fixture paths and small utilities. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Outcome } from 'corral';

/** Path of a module in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** The main task fixture. */
export const tasks = fixture('tasks.mjs');

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'corral-test-'));
}

/** Collects an async iterable of outcomes. */
export async function collect<I, R>(it: AsyncIterable<Outcome<I, R>>): Promise<Outcome<I, R>[]> {
  const out: Outcome<I, R>[] = [];
  for await (const o of it) out.push(o);
  return out;
}

/** Resolves when `check()` holds, polling; rejects after `ms`. For waiting on asynchronous effects, not for timing assertions. */
export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** The `code` of what `fn` throws synchronously (undefined if it does not throw). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    // By shape: tests of src/ modules and of the built package have different CorralError classes.
    const code = (error as { code?: unknown } | null)?.code;
    return error instanceof Error && typeof code === 'string' ? code : 'no error code';
  }
  return undefined;
}

/** Whether a process of that pid is alive (signal 0 reaches it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
