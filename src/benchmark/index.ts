/**
 * `benchmark()`: a task module's scaling report, the engine of `corral bench MODULE`.
 *
 * @module
 */
export { benchmark } from './benchmark.js';
export type { BenchmarkOptions } from './options.js';
export type { BenchmarkReport, BenchmarkPoint, BenchmarkAdvice } from './report.js';
export type { Summary } from './stats.js';
export { scalingChart } from './chart.js';
