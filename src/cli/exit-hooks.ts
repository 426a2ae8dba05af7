/**
 * Work that must happen right before the process exits, whatever the command did: writing out
 * buffered log lines. Commands register it; src/cli/main.ts runs it after the command returned
 * or threw, and only then exits.
 */
const hooks = new Set<() => void | Promise<void>>();

export function beforeExit(hook: () => void | Promise<void>): void {
  hooks.add(hook);
}

/** Runs every hook; one that fails must not stop the others (the process exits anyway). */
export async function runExitHooks(): Promise<void> {
  await Promise.allSettled([...hooks].map(async (hook) => hook()));
}
