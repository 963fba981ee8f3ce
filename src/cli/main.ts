#!/usr/bin/env node
/**
 * The `corral` executable. Each command group registers itself; this file only assembles them.
 *
 * @module
 */
import { Command } from 'commander';
import { registerGovernorCommand } from './governor.js';
import { registerMapCommand } from './map.js';
import { registerBenchCommand } from './bench.js';
import { registerServeCommand } from './serve.js';
import { registerQueueCommand } from './queue.js';

const program = new Command('corral').description(
  'corral: worker_threads pools, and the tools around them',
);
registerMapCommand(program);
registerGovernorCommand(program);
registerBenchCommand(program);
registerServeCommand(program);
registerQueueCommand(program);
await program.parseAsync();
