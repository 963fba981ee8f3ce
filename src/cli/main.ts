#!/usr/bin/env node
/**
 * The `corral` executable. Each command group registers itself; this file only assembles them.
 *
 * @module
 */
import { Command } from 'commander';
import { registerGovernorCommand } from './governor.js';

const program = new Command('corral').description(
  'corral: worker_threads pools, and the tools around them',
);
registerGovernorCommand(program);
await program.parseAsync();
