// @ts-check
import workerpool from 'workerpool';
import { cpu, payload, tiny } from '../lib/tasks.js';

workerpool.worker({ tiny, cpu, payload });
