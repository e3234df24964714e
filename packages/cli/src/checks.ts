import { check, type Check } from '@plank/core';

// plankup's values, checked with core's option checks (one rule for every package): the
// command line (options.ts) and loadApp's arguments (load.ts) read them the same way.

/** A TCP port; `'5000'` from the command line becomes 5000. */
export const port: Check<number> = check.custom('must be a port number (0-65535)', (v) =>
  check.integer({ min: 0, max: 65535 }).parse(v),
);

/** A `--path` mount point: a path below the root, as urlMap takes it. */
export const mountPath: Check<string> = check.custom('must be a mount path like /app', (v) =>
  typeof v === 'string' && /^\/./.test(v) ? v : undefined,
);

/** `loadApp`'s arguments (`LoadArgs`): plain data, also handed to every prefork worker. */
export const loadArgs: {
  app: Check<string>;
  eval: Check<string>;
  modules: Check<string[]>;
  env: Check<string>;
  defaultMiddleware: Check<boolean>;
  accessLog: Check<string>;
  path: Check<string>;
  cwd: Check<string>;
} = {
  app: check.path,
  eval: check.string,
  modules: check.array(check.string),
  env: check.string,
  defaultMiddleware: check.boolean,
  accessLog: check.path,
  path: mountPath,
  cwd: check.path,
};
