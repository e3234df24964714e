// Maps a file-system path (already checked by safePath) to what is there: a regular file
// we may serve, a directory, or a refusal. This is where symlinks are confined to the
// root and where the optional metadata cache lives.

import { type Stats, type FSWatcher, realpathSync, watch } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
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
  /** The whole file, for small cached files once read; exactly the bytes `stat` describes. */
  data?: Buffer;
  /** The strong ETag of the file itself and its Last-Modified date, filled in by the handler on first use. */
  etag?: string;
  lastModified?: string;
};

export type Lookup =
  | { kind: 'file'; info: FileInfo }
  | { kind: 'dir'; path: string }
  | { kind: 'status'; status: 400 | 403 | 404 };

export type ResolverOptions = {
  root: string;
  followSymlinks: boolean;
  dotfiles: DotfilesPolicy;
  cache: { maxEntries: number; ttl: number; maxFileSize: number; maxBytes: number } | false;
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
        if (
          dotfiles !== 'allow' &&
          hasDotSegment(real.slice(realRoot.endsWith(sep) ? realRoot.length : realRoot.length + 1))
        ) {
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

type CacheLimits = { maxEntries: number; ttl: number; maxFileSize: number; maxBytes: number };

/**
 * Remembers lookups for `ttl` ms and at most `maxEntries` paths (oldest first out).
 * A served file is also watched (inotify), so a change or a replacement drops its
 * entry at once; after `ttl` an entry is looked up again (realpath + stat), which
 * catches what a watch cannot see, such as a directory symlink swapped above it.
 * Files up to `maxFileSize` bytes also keep their bytes (`maxBytes` in all), read once
 * in the background: a hit then needs no file-system call at all, not even to send.
 */
function cached(resolve: (path: string) => Promise<Lookup>, limits: CacheLimits): Resolver {
  const { maxEntries, ttl } = limits;
  const entries = new Map<string, Entry>();
  let bytes = 0;

  const drop = (path: string, entry: Entry): void => {
    entry.watcher?.close();
    if (entries.get(path) !== entry) return;
    entries.delete(path);
    if (entry.result.kind === 'file' && entry.result.info.data) bytes -= entry.result.info.size;
  };

  const store = (path: string, result: Lookup): void => {
    const old = entries.get(path);
    // Looked up again after ttl and unchanged: keep the entry, its watch and its bytes.
    if (old && result.kind === 'file' && old.result.kind === 'file' && same(old.result.info, result.info)) {
      old.checkedAt = Date.now();
      return;
    }
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
    if (result.kind === 'file' && result.info.size <= limits.maxFileSize && result.info.size > 0)
      void keepBytes(path, entry, result.info);
  };

  const keepBytes = async (path: string, entry: Entry, info: FileInfo): Promise<void> => {
    if (bytes + info.size > limits.maxBytes) return;
    const data = await readExactly(info).catch(() => undefined);
    // Dropped or replaced meanwhile, or the budget went to another file: serve from disk.
    if (data === undefined || entries.get(path) !== entry || bytes + info.size > limits.maxBytes) return;
    bytes += info.size;
    info.data = data;
  };

  return {
    lookup(path, cacheMissing = false) {
      const hit = entries.get(path);
      if (hit && Date.now() - hit.checkedAt < ttl) return hit.result;
      return resolve(path).then((result) => {
        const keep = result.kind !== 'status' || (cacheMissing && result.status === 404);
        if (keep) store(path, result);
        else if (hit) drop(path, hit);
        const now = entries.get(path);
        return now !== undefined && now.result.kind === 'file' && result.kind === 'file' ? now.result : result;
      });
    },
    close() {
      for (const [path, entry] of entries) drop(path, entry);
    },
  };
}

function same(a: FileInfo, b: FileInfo): boolean {
  return (
    a.path === b.path &&
    a.stat.ino === b.stat.ino &&
    a.stat.dev === b.stat.dev &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.stat.ctimeMs === b.stat.ctimeMs
  );
}

/** The file's bytes, if the open file is still the one `info` describes and reads whole. */
async function readExactly(info: FileInfo): Promise<Buffer | undefined> {
  const handle = await open(info.path, 'r');
  try {
    const st = await handle.stat();
    if (st.ino !== info.stat.ino || st.size !== info.size || st.mtimeMs !== info.mtimeMs) return undefined;
    // Its own allocation: a slice of node's shared pool would pin the whole pool.
    const data = Buffer.allocUnsafeSlow(info.size);
    const { bytesRead } = await handle.read(data, 0, info.size, 0);
    return bytesRead === info.size ? data : undefined;
  } finally {
    await handle.close();
  }
}
