/** Debian's chromium, driven by playwright-core (no browser download). */
import { chromium, type Browser } from 'playwright-core';

/** Where the system's chromium is; `CHROMIUM_PATH` overrides it. */
export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Starts a headless chromium; close it in `afterAll`. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
}
