// Its own module so that runner.ts and reload.ts, which both use it, do not import each other.

/** Where the Runner reads and writes; tests give their own. */
export type RunnerIO = {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  /** The plankup bin, for re-running itself under `-r`. @default the current process's script */
  bin?: string;
};
