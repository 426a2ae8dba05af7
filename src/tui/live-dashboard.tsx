/**
 * Mounting the dashboard on the terminal with ink: it re-reads the model twice a second (the
 * countdowns tick), fits the log tail to the terminal height, and turns `q` and Ctrl-C into the
 * same request as a signal (the first drains, the second aborts). Loaded only on a TTY.
 */
import { render, useInput, useStdin, useStdout } from 'ink';
import { useEffect, useReducer, type ReactNode } from 'react';
import { Dashboard } from './dashboard.js';
import type { DashboardModel } from './model.js';

export interface LiveDashboard {
  /** Re-renders now (after a state change such as the start of the drain). */
  refresh(): void;
  /** Renders a last frame and leaves it on the terminal. */
  stop(): Promise<void>;
}

interface Props {
  model: () => DashboardModel;
  onQuit: () => void;
  intervalMs: number;
}

function Live({ model, onQuit, intervalMs }: Props): ReactNode {
  const [, tick] = useReducer((x: number) => x + 1, 0);
  useEffect(() => {
    const timer = setInterval(tick, intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      if (input === 'q' || input === 'Q' || (key.ctrl && input === 'c')) onQuit();
    },
    { isActive: isRawModeSupported },
  );
  const { stdout } = useStdout();
  const m = model();
  const rowLines = (stdout.columns || 80) >= 150 ? 1 : 2;
  const logLines = Math.max(3, (stdout.rows || 24) - m.jobs.length * rowLines - 9);
  return <Dashboard model={m} logLines={logLines} width={stdout.columns || undefined} />;
}

export function mountDashboard(o: { model: () => DashboardModel; onQuit: () => void; stdout?: NodeJS.WriteStream; stdin?: NodeJS.ReadStream; intervalMs?: number }): LiveDashboard {
  const element = (): ReactNode => <Live model={o.model} onQuit={o.onQuit} intervalMs={o.intervalMs ?? 500} />;
  const app = render(element(), { stdout: o.stdout ?? process.stdout, stdin: o.stdin ?? process.stdin, exitOnCtrlC: false, patchConsole: false });
  return {
    refresh: () => app.rerender(element()),
    stop: async () => {
      app.rerender(element());
      app.unmount();
      await app.waitUntilExit().catch(() => {});
    },
  };
}
