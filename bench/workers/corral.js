// @ts-check
// corral's worker module: every exported function is a task, the default export is the task used
// when none is named.
export { tiny, cpu, payload, tiny as default } from '../lib/tasks.js';
