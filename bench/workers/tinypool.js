// @ts-check
// tinypool runs the default export, or the named export given as `name` in `run()`.
export { tiny, cpu, payload, tiny as default } from '../lib/tasks.js';
