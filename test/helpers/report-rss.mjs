// @ts-check
// Preloaded (`node --import`) into the CLI by test/cli/cli-map-memory.test.ts: reports the
// process's peak RSS on stderr as it exits, so the CLI itself needs no test hook.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.on('exit', () => {
    process.stderr.write(`max RSS ${process.resourceUsage().maxRSS} kB\n`);
  });
}
