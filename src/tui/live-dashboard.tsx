/**
 * Mounting the dashboard on the terminal with ink: it re-reads the model twice a second (the
 * countdowns tick), lays it out for the terminal's size and again at every resize (SIGWINCH),
 * scrolls the job rows with the arrow and page keys when they don't all fit, draws without any
 * colour or style under NO_COLOR, and turns `q` and Ctrl-C into the same request as a signal (the
 * first drains, the second aborts). Loaded only on a TTY.
 */
import { Box, render, useInput, useStdin, useStdout } from 'ink';
import { useEffect, useReducer, useRef, useState, type ReactNode } from 'react';
import { dashboardFrame } from './dashboard.js';
import type { DashboardModel } from './model.js';
import { Line, colourWanted } from './style.js';
import { useTerminalSize } from './terminal-size.js';

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
  colour: boolean;
}

function Live({ model, onQuit, intervalMs, colour }: Props): ReactNode {
  const [, tick] = useReducer((x: number) => x + 1, 0);
  useEffect(() => {
    const timer = setInterval(tick, intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  const { stdout } = useStdout();
  const size = useTerminalSize(stdout);
  const [offset, setOffset] = useState(0);
  const page = useRef({ start: 0, shown: 0, total: 0 });
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      if (input === 'q' || input === 'Q' || (key.ctrl && input === 'c')) return onQuit();
      const p = page.current;
      const step = key.upArrow ? -1 : key.downArrow ? 1 : key.pageUp ? -Math.max(1, p.shown) : key.pageDown ? Math.max(1, p.shown) : key.home ? -p.total : key.end ? p.total : 0;
      if (step !== 0) setOffset(Math.max(0, Math.min(Math.max(0, p.total - p.shown), p.start + step)));
    },
    { isActive: isRawModeSupported },
  );
  const m = model();
  const frame = dashboardFrame({ model: m, width: size.columns, height: size.rows, offset });
  page.current = { start: frame.start, shown: frame.shown, total: m.jobs.length };
  return (
    <Box flexDirection="column">
      {frame.lines.map((parts, i) => (
        <Line key={i} parts={parts} colour={colour} />
      ))}
    </Box>
  );
}

export function mountDashboard(o: { model: () => DashboardModel; onQuit: () => void; stdout?: NodeJS.WriteStream; stdin?: NodeJS.ReadStream; intervalMs?: number }): LiveDashboard {
  const colour = colourWanted();
  const element = (): ReactNode => <Live model={o.model} onQuit={o.onQuit} intervalMs={o.intervalMs ?? 500} colour={colour} />;
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
