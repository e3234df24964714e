// Maps a file-system path (already checked by safePath) to what is there: a regular file
// we may serve, a directory, or a refusal. This is where symlinks are confined to the
// root and where the optional metadata cache lives.

import { type Stats, type FSWatcher, realpathSync, watch } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { hasDotSegment, type DotfilesPolicy } from './safe-path.js';

/** A regular file that passed every check. Cached objects are shared between requests. */
export type FileInfo = {
  /** The path to open: the real path, symlinks resolved (unless followSymlinks). */
  path: string;
  stat: Stats;
  size: number;
  mtimeMs: number;
  /** Content-Type, filled in by the handler on first use (it depends on the requested name). */
  type?: string;
};

export type Lookup =
  | { kind: 'file'; info: FileInfo }
  | { kind: 'dir'; path: string }
  | { kind: 'status'; status: 400 | 403 | 404 };

export type ResolverOptions = {
  root: string;
  followSymlinks: boolean;
  dotfiles: DotfilesPolicy;
  cache: { maxEntries: number; ttl: number } | false;
};

export type Resolver = {
  /**
   * Looks `path` up. `cacheMissing` also caches "not found" (for precompressed variants,
   * which are mostly absent and asked for on every request).
   */
  lookup(path: string, cacheMissing?: boolean): Lookup | Promise<Lookup>;
  /** Stops every cache watcher (for tests and graceful shutdown; watchers never hold the process open). */
  close(): void;
};

const NOT_FOUND: Lookup = { kind: 'status', status: 404 };
const FORBIDDEN: Lookup = { kind: 'status', status: 403 };

export function createResolver(options: ResolverOptions): Resolver {
  const { followSymlinks, dotfiles } = options;
  let realRoot = realpathSync(options.root);

  async function resolve(path: string): Promise<Lookup> {
    let real = path;
    try {
      if (!followSymlinks) {
        real = await realpath(path);
        if (!within(real, realRoot)) {
          // The root itself may have been swapped (a `current -> release-N` deploy
          // symlink): look again before calling it an escape.
          const fresh = await realpath(options.root);
          if (fresh === realRoot || !within(real, fresh)) return FORBIDDEN;
          realRoot = fresh;
        }
        // A link with an innocent name may point at a dotfile inside the root.
        if (dotfiles !== 'allow' && hasDotSegment(real.slice(realRoot.endsWith(sep) ? realRoot.length : realRoot.length + 1))) {
          return dotfiles === 'deny' ? FORBIDDEN : NOT_FOUND;
        }
      }
      const st = await stat(real);
      if (st.isDirectory()) return { kind: 'dir', path: real };
      // Only regular files: opening a FIFO would block a libuv thread forever, and
      // devices or sockets are never content.
      if (!st.isFile()) return NOT_FOUND;
      if (!readable(st)) return FORBIDDEN;
      return { kind: 'file', info: { path: real, stat: st, size: st.size, mtimeMs: st.mtimeMs } };
    } catch (err) {
      return fromError(err);
    }
  }

  if (options.cache === false) return { lookup: (path) => resolve(path), close() {} };
  return cached(resolve, options.cache);
}

function within(path: string, root: string): boolean {
  return path === root || (path.startsWith(root) && (root.endsWith(sep) || path[root.length] === sep));
}

function fromError(err: unknown): Lookup {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return NOT_FOUND;
    case 'EACCES':
    case 'EPERM':
    case 'ELOOP':
      return FORBIDDEN;
    case 'ENAMETOOLONG':
      return { kind: 'status', status: 400 };
    default:
      throw err;
  }
}

// Permission bits checked against our own ids, so no access() syscall is spent per
// request; ACLs are ignored (a file an ACL hides gives an error when opened instead).
const uid = process.getuid?.() ?? -1;
const gids = new Set([process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])]);
function readable(st: Stats): boolean {
  if (uid === 0 || uid === -1) return true;
  if (st.uid === uid) return (st.mode & 0o400) !== 0;
  if (gids.has(st.gid)) return (st.mode & 0o040) !== 0;
  return (st.mode & 0o004) !== 0;
}

type Entry = { result: Lookup; checkedAt: number; watcher?: FSWatcher };

/**
 * Remembers lookups for `ttl` ms and at most `maxEntries` paths (oldest first out).
 * A served file is also watched (inotify), so a change or a replacement drops its
 * entry at once; after `ttl` an entry is looked up again (realpath + stat), which
 * catches what a watch cannot see, such as a directory symlink swapped above it.
 */
function cached(resolve: (path: string) => Promise<Lookup>, { maxEntries, ttl }: { maxEntries: number; ttl: number }): Resolver {
  const entries = new Map<string, Entry>();

  const drop = (path: string, entry: Entry): void => {
    entry.watcher?.close();
    if (entries.get(path) === entry) entries.delete(path);
  };

  const store = (path: string, result: Lookup): void => {
    const old = entries.get(path);
    if (old) drop(path, old);
    const entry: Entry = { result, checkedAt: Date.now() };
    if (result.kind === 'file') {
      try {
        entry.watcher = watch(result.info.path, { persistent: false }, () => drop(path, entry));
        entry.watcher.on('error', () => drop(path, entry));
      } catch {
        // Out of inotify watches: the entry still expires after ttl.
      }
    }
    entries.set(path, entry);
    if (entries.size > maxEntries) {
      const [oldestPath, oldest] = entries.entries().next().value as [string, Entry];
      drop(oldestPath, oldest);
    }
  };

  return {
    lookup(path, cacheMissing = false) {
      const hit = entries.get(path);
      if (hit && Date.now() - hit.checkedAt < ttl) return hit.result;
      return resolve(path).then((result) => {
        const keep = result.kind !== 'status' || (cacheMissing && result.status === 404);
        if (keep) store(path, result);
        else if (hit) drop(path, hit);
        return result;
      });
    },
    close() {
      for (const [path, entry] of entries) drop(path, entry);
    },
  };
}
