/**
 * A second copy of the built package, loaded beside the one `corral` resolves to: what an
 * app gets when two versions of corral are installed, or when source and build are both
 * loaded. A query string (`index.js?copy=2`) would not do: only that one module would load
 * twice, and the modules it imports would be shared.
 */
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A copy of dist/ in a temporary directory; `url(path)` names a module in it. */
export interface SecondCopy {
  /** The file URL of `path` (relative to the copy's dist/, e.g. `src/index.js`). */
  url(path: string): string;
  /** Deletes the copy. */
  remove(): void;
}

/** Copies the build (build first) to a temporary directory that resolves bare imports like the repo. */
export function secondCopy(): SecondCopy {
  const dir = mkdtempSync(join(tmpdir(), 'corral-copy-'));
  // The sources too, which dist/'s source maps point at.
  for (const part of ['dist', 'src', 'workers']) {
    cpSync(join(root, part), join(dir, part), { recursive: true });
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  // The NATS client packages, for corral/nats.
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return {
    url: (path) => pathToFileURL(join(dir, 'dist', path)).href,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
