/**
 * Loads the task module in a worker thread, TypeScript included.
 *
 * On Node 20 a worker thread does not get the main thread's module hooks: neither
 * `node --import tsx main.ts` nor `execArgv: ['--import', 'tsx']` reaches it, so importing
 * a `.ts` module fails with `ERR_UNKNOWN_FILE_EXTENSION`. Registering tsx's ESM hooks from
 * inside the thread does work, so for a TypeScript module the thread does that first, with
 * the tsx that the module's own project has installed.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * A task module in TypeScript, with no TypeScript loader to run it. Raised in the thread, it
 * reaches the caller as the `cause` of the pool's `ERR_MODULE_LOAD`, the way Node's own
 * `ERR_UNKNOWN_FILE_EXTENSION` would have; like that one it carries a stable `code` but is
 * not itself one of corral's errors (whose codes are listed in src/util/errors.ts).
 */
export class TypeScriptLoaderMissingError extends Error {
  /** Stable code, for matching on `error.cause.code`. */
  readonly code = 'ERR_TS_LOADER_MISSING';

  constructor(module: string, options?: ErrorOptions) {
    super(
      `the task module ${module} is TypeScript and Node cannot run it as it is: ` +
        'install tsx in its project (npm install --save-dev tsx), or point the pool at compiled JavaScript',
      options,
    );
    this.name = 'TypeScriptLoaderMissingError';
  }
}

const TYPESCRIPT = /\.(?:ts|mts|cts)$/;

/** Whether the module's URL names a TypeScript file. */
function isTypeScript(url: URL): boolean {
  return TYPESCRIPT.test(url.pathname);
}

/** The file URL of `tsx/esm/api` as the module's project resolves it, or undefined without tsx. */
function findTsxApi(module: URL): URL | undefined {
  let manifest: string;
  try {
    manifest = createRequire(module).resolve('tsx/package.json');
  } catch {
    return undefined;
  }
  // `require.resolve('tsx/esm/api')` would give the CommonJS build, whose register() cannot
  // find its hooks from a worker thread; the ESM build is named in tsx's exports map.
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports?: Record<string, { import?: string | { default?: string } } | undefined>;
  };
  const entry = exports?.['./esm/api']?.import;
  const path = typeof entry === 'string' ? entry : entry?.default;
  return path === undefined ? undefined : new URL(path, pathToFileURL(manifest));
}

/**
 * Imports the task module at `href` (a `file:` URL). A `.ts`, `.mts` or `.cts` module is
 * imported after registering tsx, when its project has tsx installed; without tsx it is
 * imported as it is (a newer Node may run it), and a failure for its file extension becomes
 * {@link TypeScriptLoaderMissingError}.
 */
export async function loadTaskModule(href: string): Promise<Record<string, unknown>> {
  const url = new URL(href);
  if (!isTypeScript(url)) return (await import(href)) as Record<string, unknown>;
  const api = findTsxApi(url);
  if (api !== undefined) {
    const { register } = (await import(api.href)) as { register: () => unknown };
    register();
  }
  try {
    return (await import(href)) as Record<string, unknown>;
  } catch (error) {
    if (api === undefined && (error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new TypeScriptLoaderMissingError(href, { cause: error });
    }
    throw error;
  }
}
