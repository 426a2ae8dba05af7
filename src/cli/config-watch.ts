/**
 * Notices when the jobs file changes, however it changes: written in place, replaced by an
 * editor's atomic rename, swapped under a symlink (a Kubernetes ConfigMap volume renames its
 * `..data` link), or given other permissions. It watches the file's directory (which sees renames,
 * unlike a watch on the file itself; events for other files there are ignored) and also polls the
 * file's identity (device, inode, size, mtime, mode, ctime, through symlinks) every POLL_MS, for
 * file systems where watches miss changes. Watch events are debounced: one check after the writes
 * settle. The caller passes the identity the file had when it was read, so an edit made while
 * `run` was starting is noticed too.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

const POLL_MS = 2_000;
const SETTLE_MS = 300;

export interface ConfigWatch {
  close(): void;
}

/** What changes when the file does (through symlinks); taken before reading it. */
export async function fileIdentity(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.mode}:${s.ctimeMs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

export function watchConfig(file: string, readAs: string, onChange: () => void, o: { pollMs?: number; settleMs?: number } = {}): ConfigWatch {
  let last = readAs;
  let settle: NodeJS.Timeout | undefined;
  let closed = false;
  const check = (): void => {
    void fileIdentity(file).then((now) => {
      if (closed || now === last) return;
      last = now;
      onChange();
    });
  };
  const name = path.basename(file);
  const changed = (_event: string, entry: string | Buffer | null): void => {
    // The file itself, a link swapped in a ConfigMap volume (..data), or an unnamed event.
    const e = entry === null ? null : String(entry);
    if (closed || (e !== null && e !== name && !e.startsWith('..'))) return;
    clearTimeout(settle);
    settle = setTimeout(check, o.settleMs ?? SETTLE_MS);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path.dirname(path.resolve(file)), { persistent: false }, changed);
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined; // the poll goes on
    });
  } catch {
    watcher = undefined; // no watches here (or the directory is gone): the poll notices changes
  }
  const poll = setInterval(check, o.pollMs ?? POLL_MS);
  check(); // changed since it was read
  poll.unref();
  return {
    close() {
      closed = true;
      clearTimeout(settle);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
