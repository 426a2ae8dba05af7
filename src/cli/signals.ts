/**
 * Stop signals as promises: the first SIGINT or SIGTERM starts a graceful stop, the one after cuts
 * it short. SIGHUP stops a command the same way (a terminal closing never kills a run without its
 * drain), except `run`, where it reloads the jobs file (reloadSignal).
 */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface StopSignals {
  first: Promise<NodeJS.Signals>;
  second: Promise<NodeJS.Signals>;
  /** Acts as if a signal arrived (the dashboard's `q`). */
  trigger(s: NodeJS.Signals): void;
  dispose(): void;
}

export function stopSignals(signals: readonly NodeJS.Signals[] = STOP_SIGNALS): StopSignals {
  let count = 0;
  let resolveFirst!: (s: NodeJS.Signals) => void;
  let resolveSecond!: (s: NodeJS.Signals) => void;
  const first = new Promise<NodeJS.Signals>((r) => (resolveFirst = r));
  const second = new Promise<NodeJS.Signals>((r) => (resolveSecond = r));
  const handler = (s: NodeJS.Signals): void => {
    count++;
    if (count === 1) resolveFirst(s);
    else resolveSecond(s);
  };
  for (const s of signals) process.on(s, handler);
  return {
    first,
    second,
    trigger: handler,
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}

/** SIGHUP as a reload request: `onReload` for each one; returns the disposer. */
export function reloadSignal(onReload: () => void): () => void {
  const handler = (): void => onReload();
  process.on('SIGHUP', handler);
  return () => process.off('SIGHUP', handler);
}
