/**
 * The terminal's size for the ink views, kept current: a terminal's stdout emits `resize` when the
 * window changes (SIGWINCH), and the view lays itself out again. 80x24 when unknown.
 */
import { useEffect, useState } from 'react';

export interface TerminalSize {
  columns: number;
  rows: number;
}

export function terminalSize(stdout: Pick<NodeJS.WriteStream, 'columns' | 'rows'>): TerminalSize {
  return { columns: stdout.columns || 80, rows: stdout.rows || 24 };
}

export function useTerminalSize(stdout: NodeJS.WriteStream): TerminalSize {
  const [size, setSize] = useState(() => terminalSize(stdout));
  useEffect(() => {
    const onResize = (): void => {
      const next = terminalSize(stdout);
      setSize((prev) => (prev.columns === next.columns && prev.rows === next.rows ? prev : next));
    };
    onResize();
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
