/**
 * `corral bench MODULE INPUT.jsonl`: the sample inputs, one JSON value per line (blank lines
 * skipped), read whole: they are samples, cycled through while the benchmark runs.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { InvalidOptionError } from '../util/errors.js';
import { InputError, InvalidRecordError } from './errors.js';

/** The records of a JSON-lines file; throws `ERR_INPUT`, `ERR_INVALID_RECORD` or, for none, `ERR_INVALID_OPTION`. */
export async function readSampleInputs(path: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(path, error);
  }
  const inputs: unknown[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      inputs.push(JSON.parse(line));
    } catch (error) {
      const wrapped = new InvalidRecordError(error);
      wrapped.message = `${path} line ${i + 1}: ${wrapped.message}`;
      throw wrapped;
    }
  }
  if (inputs.length === 0) {
    throw new InvalidOptionError(
      'INPUT',
      'a JSON-lines file with at least one record',
      `${path} (empty)`,
    );
  }
  return inputs;
}
