// The trust model of a shared directory, in the spirit of OpenSSH's StrictModes: the directory
// and every directory above it must be owned by this process's user or by root, and writable
// by no one else; otherwise someone else could plant entries in it (symlinks to files we would
// overwrite, FIFOs that hang a reader) or swap it for a directory of their own. A directory
// above may be writable by others when it has the sticky bit (/tmp, /dev/shm): there no one
// can rename or remove what we own. Checked once when the scoreboard is built (without
// writing anything: `plankup --check` runs it) and again whenever the directory is created or
// read, so a directory that changed hands since start-up is refused too.
import { accessSync, constants, lstatSync, mkdirSync, readFileSync, realpathSync, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PlankError } from '@plank/core';

/** How a shared directory may be shared. */
export type TrustMode = {
  /** Accept group write permission (for workers of several users in one group). */
  groupWritable: boolean;
  /**
   * Only reading (plank-status): nothing is written, so the directories may belong to another
   * user (an operator reads the server's with sudo) and need not be writable; they must still
   * be writable by no one but their owners, or what they say could come from anyone.
   */
  readOnly?: boolean;
};

const uid = (): number => process.geteuid?.() ?? 0;
const modeOf = (st: Stats): string => `0${(st.mode & 0o7777).toString(8).padStart(3, '0')}`;
const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    // ENOTDIR: a file on the way; the walk up finds it and says so.
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

const table = (file: string): string[][] =>
  readFileSync(file, 'latin1')
    .split('\n')
    .map((l) => l.split(':'));
const id = (field: string | undefined): number => (field && /^\d+$/.test(field) ? Number(field) : Number.NaN);

/**
 * Whether `gid` is the private group of user `owner` (the user-private-group convention with
 * umask 002, where `git clone` and `mkdir` make group-writable directories): named after the
 * user, no other member, no other user's primary group. Group write then lets no one else in,
 * so it is accepted, as Debian's OpenSSH accepts it. Users and groups only NSS knows (LDAP)
 * are not looked up: such a directory needs `groupWritable`.
 */
function isPrivateGroup(gid: number, owner: number): boolean {
  let users: string[][];
  let groups: string[][];
  try {
    users = table('/etc/passwd');
    groups = table('/etc/group');
  } catch {
    return false;
  }
  const name = users.find((u) => id(u[2]) === owner)?.[0];
  const group = groups.find((g) => id(g[2]) === gid);
  if (name === undefined || group?.[0] !== name) return false;
  if (users.some((u) => u[0] !== name && id(u[3]) === gid)) return false;
  return (group[3] ?? '').split(',').every((member) => member === '' || member === name);
}

/** Why `st` may not hold or lead to our files, or undefined when it may. */
function distrust(st: Stats, self: boolean, mode: TrustMode): string | undefined {
  const me = uid();
  if (!mode.readOnly && st.uid !== me && st.uid !== 0)
    return `it must be owned by uid ${me} (this process's user) or root`;
  // Above the directory, a sticky bit means no one can rename or replace what we own (/tmp).
  const sticky = !self && (st.mode & 0o1000) !== 0;
  const why = mode.groupWritable ? 'it must not be writable by others' : 'it must not be writable by group or others';
  if (st.mode & 0o002 && !sticky) return why;
  if (st.mode & 0o020 && !sticky && !mode.groupWritable && !isPrivateGroup(st.gid, st.uid)) return why;
  return undefined;
}

function refuse(code: string, where: string, dir: string, path: string, st: Stats, why: string): never {
  const what = path === dir ? `the directory "${dir}"` : `the directory "${dir}": "${path}"`;
  throw new PlankError(
    code,
    `${where}: refusing ${what} owned by uid ${st.uid} with mode ${modeOf(st)}: ${why} (see the trust model in @plank/scoreboard's README)`,
  );
}

/**
 * Checks, without writing anything, that `dir` is a directory this process may trust and
 * write, or that it can be created inside one. Throws a one-line PlankError naming the
 * directory (or the directory above it at fault), its owner and its mode.
 */
export function checkDirectory(code: string, where: string, dir: string, mode: TrustMode): void {
  const abs = resolve(dir);
  let existing = abs;
  let st: Stats | undefined;
  try {
    // The nearest directory that exists: `dir` itself, or where it will be created.
    while ((st = statOrUndefined(existing)) === undefined && dirname(existing) !== existing)
      existing = dirname(existing);
  } catch (err) {
    throw new PlankError(code, `${where}: cannot use the directory "${abs}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!st?.isDirectory()) throw new PlankError(code, `${where}: "${existing}" is not a directory (for "${abs}")`);
  try {
    if (!mode.readOnly) accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new PlankError(
      code,
      `${where}: ${existing === abs ? 'the directory' : 'the parent directory'} "${existing}" is not writable by this process (${errno(err)})`,
      { cause: err },
    );
  }
  // A symlink on the way must be ours or root's: whoever owns it decides where it points.
  for (let p = abs; ; p = dirname(p)) {
    const l = lstatOrUndefined(p);
    if (!mode.readOnly && l?.isSymbolicLink() && l.uid !== uid() && l.uid !== 0)
      refuse(code, where, abs, p, l, `a symbolic link on the way must be owned by uid ${uid()} or root`);
    if (dirname(p) === p) break;
  }
  const real = realpathSync(existing);
  for (let p = real; ; p = dirname(p)) {
    const s = p === real ? st : statSync(p);
    const why = distrust(s, p === real && existing === abs, mode);
    if (why) refuse(code, where, abs, p, s, why);
    if (dirname(p) === p) break;
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Creates `dir` (mode 0700, or 0770 when group-writable) where it is missing, then checks it
 * as checkDirectory does: a directory someone else created in between is refused.
 */
export function ensureDirectory(code: string, where: string, dir: string, mode: TrustMode): void {
  try {
    mkdirSync(dir, { recursive: true, mode: mode.groupWritable ? 0o770 : 0o700 });
  } catch (err) {
    throw new PlankError(code, `${where}: cannot create the directory "${resolve(dir)}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  checkDirectory(code, where, dir, mode);
}
