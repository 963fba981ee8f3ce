/**
 * The errors of `corral map`: input that cannot be read or parsed, output that cannot be
 * written.
 *
 * @module
 */
import { CorralError } from '../util/errors.js';

/** A JSON-lines input line that is not valid JSON; `cause` is the parser's `SyntaxError`. */
export class InvalidRecordError extends CorralError {
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ERR_INVALID_RECORD', `not valid JSON: ${reason}`, { cause });
  }
}

/** The input could not be opened or read. */
export class InputError extends CorralError {
  constructor(path: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ERR_INPUT', `cannot read input ${path}: ${reason}`, { cause });
  }
}

/** A result that JSON cannot represent (a BigInt, a cycle). */
export class ResultNotJsonError extends CorralError {
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ERR_RESULT_NOT_JSON', `the result cannot be written as JSON: ${reason}`, { cause });
  }
}

/** An output file could not be opened or written. */
export class OutputError extends CorralError {
  constructor(name: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ERR_OUTPUT', `cannot write ${name}: ${reason}`, { cause });
  }
}
