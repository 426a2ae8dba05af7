/**
 * Notices when the jobs file changes, however it changes: written in place, replaced by an
 * editor's atomic rename, or swapped under a symlink (a Kubernetes ConfigMap volume renames its
 * `..data` link). It watches the file's directory (which sees renames, unlike a watch on the file
 * itself) and also polls the file's identity (device, inode, size, mtime, through symlinks) every
 * POLL_MS, for file systems where watches miss changes. Changes are debounced: one call after the
 * writes settle.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

const POLL_MS = 2_000;
const SETTLE_MS = 300;

export interface ConfigWatch {
  close(): void;
}

async function identity(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

export async function watchConfig(file: string, onChange: () => void, o: { pollMs?: number; settleMs?: number } = {}): Promise<ConfigWatch> {
  let last = await identity(file);
  let settle: NodeJS.Timeout | undefined;
  let closed = false;
  const changed = (): void => {
    if (closed) return;
    clearTimeout(settle);
    settle = setTimeout(() => {
      void identity(file).then((now) => {
        if (closed || now === last) return;
        last = now;
        onChange();
      });
    }, o.settleMs ?? SETTLE_MS);
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
  const poll = setInterval(changed, o.pollMs ?? POLL_MS);
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
