/**
 * Stop signals as promises: the first SIGINT, SIGTERM or SIGHUP starts a graceful stop, the one
 * after cuts it short. SIGHUP is a stop signal until live reload exists, so a terminal closing or
 * a `kill -HUP` never kills a run without its drain.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface StopSignals {
  first: Promise<NodeJS.Signals>;
  second: Promise<NodeJS.Signals>;
  /** Acts as if a signal arrived (the dashboard's `q`). */
  trigger(s: NodeJS.Signals): void;
  dispose(): void;
}

export function stopSignals(): StopSignals {
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
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return {
    first,
    second,
    trigger: handler,
    dispose: () => {
      for (const s of STOP_SIGNALS) process.off(s, handler);
    },
  };
}
