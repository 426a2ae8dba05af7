/**
 * Work that must happen right before the process exits, whatever the command did: writing out
 * buffered log lines. Commands register it; src/cli/main.ts runs it after the command returned
 * or threw, and only then exits.
 */
const hooks = new Set<() => void>();

export function beforeExit(hook: () => void): void {
  hooks.add(hook);
}

export function runExitHooks(): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // exiting anyway: a hook that fails must not stop the others
    }
  }
}
