import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PlankError } from '@plank/core';

/** Session data: whatever JSON can hold. */
export type SessionData = Record<string, unknown>;

/**
 * Where sessions live between requests. Each method may answer at once or with a promise
 * (a database); `ttl` is in seconds, after which `get` must no longer find the session.
 */
export type SessionStore = {
  get(id: string): SessionData | undefined | Promise<SessionData | undefined>;
  set(id: string, data: SessionData, ttl: number): void | Promise<void>;
  destroy(id: string): void | Promise<void>;
};

/** What {@link memoryStore} takes. */
export type MemoryStoreOptions = {
  /** The most sessions kept; past it the least recently written are dropped. @default 10000 */
  maxEntries?: number;
};

/**
 * Sessions in this process's memory: for one process and for tests. They vanish on restart
 * and are not shared between prefork workers (use {@link fileStore} or your own store).
 * Data is kept as JSON text, so a request never shares objects with another.
 *
 * @example
 * ```ts
 * import { memoryStore, session } from '@plank/middleware-session';
 * const mw = session({ secrets: ['a-secret-of-at-least-thirty-two-chars!'], store: memoryStore({ maxEntries: 1000 }) });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const max = options.maxEntries ?? 10_000;
  if (!Number.isSafeInteger(max) || max < 1)
    throw new PlankError(
      'PLANK_ERR_SESSION_OPTION',
      `memoryStore: option "maxEntries" must be an integer >= 1, got ${String(max)}`,
    );
  const entries = new Map<string, { json: string; expires: number }>();
  return {
    get(id) {
      const entry = entries.get(id);
      if (entry === undefined) return undefined;
      if (entry.expires <= Date.now()) {
        entries.delete(id);
        return undefined;
      }
      return JSON.parse(entry.json) as SessionData;
    },
    set(id, data, ttl) {
      entries.delete(id);
      entries.set(id, { json: JSON.stringify(data), expires: Date.now() + ttl * 1000 });
      // Map order is insertion order: the first keys are the least recently written.
      for (const key of entries.keys()) {
        if (entries.size <= max) break;
        entries.delete(key);
      }
    },
    destroy(id) {
      entries.delete(id);
    },
  };
}

/** What {@link fileStore} takes. */
export type FileStoreOptions = {
  /** An existing directory owned by this user and not writable by others; one file per session. */
  dir: string;
};

const ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * One JSON file per session in a directory, shared by every process of the server (prefork
 * workers) and kept across restarts. Files are written to a temporary name and renamed, so a
 * reader never sees half a session; they are created 0600 and never read through a symlink.
 * Reads and writes are synchronous: session files are small and local. Expired files are
 * removed when read, and by `sweep()`, which a cron job or a timer may call.
 *
 * @example
 * ```ts
 * import { fileStore, session } from '@plank/middleware-session';
 * const mw = session({ secrets: [process.env.SESSION_SECRET ?? ''], store: fileStore({ dir: 'var/sessions' }) });
 * ```
 */
export function fileStore(options: FileStoreOptions): SessionStore & { sweep(): number } {
  const dir = options?.dir;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new PlankError(
      'PLANK_ERR_SESSION_STORE',
      `fileStore: option "dir" must be an existing directory, got ${JSON.stringify(dir)}: ${(err as Error).message}`,
    );
  }
  if (!st.isDirectory())
    throw new PlankError(
      'PLANK_ERR_SESSION_STORE',
      `fileStore: option "dir" must be a directory, got ${JSON.stringify(dir)}`,
    );
  // SECURITY.md: a directory others can write to lets them plant or swap sessions.
  if ((st.mode & 0o022) !== 0 || (process.getuid !== undefined && st.uid !== process.getuid()))
    throw new PlankError(
      'PLANK_ERR_SESSION_STORE',
      `fileStore: option "dir" must be owned by this user and writable by no one else, got ${JSON.stringify(dir)} (mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid})`,
    );
  const file = (id: string): string => join(dir, `${id}.json`);
  const read = (id: string): { expires: number; data: SessionData } | undefined => {
    if (!ID.test(id)) return undefined;
    let fd: number;
    try {
      fd = openSync(file(id), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return undefined;
    }
    try {
      if (!fstatSync(fd).isFile()) return undefined;
      return JSON.parse(readFileSync(fd, 'utf8')) as { expires: number; data: SessionData };
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  };
  const remove = (id: string): void => {
    try {
      unlinkSync(file(id));
    } catch {
      // already gone
    }
  };
  let n = 0;
  return {
    get(id) {
      const entry = read(id);
      if (entry === undefined) return undefined;
      if (!(entry.expires > Date.now())) {
        remove(id);
        return undefined;
      }
      return entry.data;
    },
    set(id, data, ttl) {
      if (!ID.test(id))
        throw new PlankError(
          'PLANK_ERR_SESSION_STORE',
          `fileStore: refusing to write session id ${JSON.stringify(id)}`,
        );
      const tmp = join(dir, `.${id}.${process.pid}.${n++}.tmp`);
      writeFileSync(tmp, JSON.stringify({ expires: Date.now() + ttl * 1000, data }), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, file(id));
    },
    destroy(id) {
      if (ID.test(id)) remove(id);
    },
    sweep() {
      let removed = 0;
      for (const name of readdirSync(dir)) {
        const id = name.endsWith('.json') ? name.slice(0, -5) : '';
        const entry = read(id);
        if (entry !== undefined && !(entry.expires > Date.now())) {
          remove(id);
          removed++;
        }
      }
      return removed;
    },
  };
}
