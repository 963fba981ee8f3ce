#!/usr/bin/env node
/**
 * The `corral` executable. Each command group registers itself; this file only assembles them.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerBenchCommand } from './bench.js';
import { registerDashboardCommand } from './dashboard.js';
import { registerDemoCommand } from './demo-map.js';
import { registerGovernorCommand } from './governor-command.js';
import { registerMapCommand } from './map.js';
import { registerServeCommand } from './serve-command.js';
import { registerQueueCommand } from './queue-command.js';

/** This package's manifest, two folders above dist/src/cli/ (and src/cli/). */
const manifest = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const program = new Command('corral')
  .description('corral: worker_threads pools, and the tools around them')
  .version(manifest.version, '-V, --version', 'print the version of corral');
registerMapCommand(program);
registerGovernorCommand(program);
registerDemoCommand(program);
registerBenchCommand(program);
registerServeCommand(program);
registerQueueCommand(program);
registerDashboardCommand(program);
await program.parseAsync();
