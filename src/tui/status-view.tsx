/**
 * `iamwatch status --watch`: the fleet status as an ink view that refreshes every two seconds,
 * without running a scheduler. `q`, Ctrl-C, SIGINT or SIGTERM end it.
 */
import { Box, render, Text, useInput, useStdin } from 'ink';
import { useEffect, useState, type ReactNode } from 'react';
import type { StatusReport } from '../observe/fleet-report.js';
import { errorMessage } from '../base/errors.js';
import { nextText, pausedText, runDuration, shortDuration } from './format.js';

function Cell({ width, children, color }: { width: number; children: ReactNode; color?: string }): ReactNode {
  return (
    <Box width={width} marginRight={1} flexShrink={0}>
      <Text wrap="truncate" color={color}>
        {children}
      </Text>
    </Box>
  );
}

export function StatusView({ report, error, width }: { report: StatusReport | null; error?: string; width?: number }): ReactNode {
  if (!report) return <Text color={error ? 'red' : undefined}>{error ?? 'reading the fleet status…'}</Text>;
  const now = Date.parse(report.now);
  const c = report.coordination;
  return (
    <Box flexDirection="column" width={width}>
      <Text>
        <Text bold color="cyan">iamwatch status </Text>
        {report.file} <Text dimColor>{c.label}</Text>
      </Text>
      {error ? <Text color="red">refresh failed: {error}</Text> : null}
      <Box marginTop={1}>
        <Cell width={20}><Text bold>JOB</Text></Cell>
        <Cell width={9}><Text bold>MODE</Text></Cell>
        <Cell width={16}><Text bold>SCHEDULE</Text></Cell>
        <Cell width={20}><Text bold>NEXT</Text></Cell>
        <Cell width={30}><Text bold>NOW</Text></Cell>
        <Text bold>LAST RUN</Text>
      </Box>
      {report.jobs.map((j) => {
        const running = j.running[0];
        const last = j.lastRun;
        const lastWhat = last ? (last.summary ?? last.error) : undefined;
        return (
          <Box key={j.name}>
            <Cell width={20}>{j.name}</Cell>
            <Cell width={9}>{j.mode}</Cell>
            <Cell width={16}>{j.schedule}</Cell>
            <Cell width={20}>{j.next ? nextText(Date.parse(j.next), now, j.tz) : (j.nextNote ?? '-')}</Cell>
            <Cell width={30} color={running ? 'cyan' : j.paused ? 'yellow' : undefined}>
              {running
                ? `running on ${running.instance}${j.running.length > 1 ? ` +${j.running.length - 1}` : ''}`
                : j.paused
                  ? pausedText({ by: j.paused.by, until: j.paused.until === null ? null : Date.parse(j.paused.until) }, now, j.tz)
                  : 'idle'}
            </Cell>
            <Box flexGrow={1}>
              <Text wrap="truncate" color={last ? (last.outcome === 'ok' ? 'green' : 'red') : 'gray'}>
                {last
                  ? `${last.outcome} ${shortDuration(now - Date.parse(last.time))} ago on ${last.instance}${last.durationMs !== null ? ` in ${runDuration(last.durationMs)}` : ''}${lastWhat ? `: ${lastWhat}` : ''}`
                  : 'never'}
              </Text>
            </Box>
          </Box>
        );
      })}
      <Box marginTop={1} flexDirection="column">
        <Text bold>INSTANCES ({report.instances.length} live)</Text>
        {report.instances.map((i) => (
          <Text key={i.instance}>
            {i.instance} <Text color={i.state === 'draining' ? 'yellow' : 'green'}>{i.state}</Text> beat {shortDuration(i.ageMs)} ago, skew {i.skewMs === null ? '?' : `${i.skewMs} ms`}, {i.jobs} jobs, {i.running.length} running
            <Text dimColor> {i.host} pid {i.pid} v{i.version}</Text>
          </Text>
        ))}
      </Box>
      <Box marginTop={1}>
        <Text dimColor>refreshing every 2s; q or Ctrl-C to quit</Text>
      </Box>
    </Box>
  );
}

function Watch({ collect, intervalMs, onQuit }: { collect: () => Promise<StatusReport>; intervalMs: number; onQuit: () => void }): ReactNode {
  const [report, setReport] = useState<StatusReport | null>(null);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let alive = true;
    let timer: NodeJS.Timeout | undefined;
    const refresh = async (): Promise<void> => {
      try {
        const r = await collect();
        if (!alive) return;
        setReport(r);
        setError(undefined);
      } catch (err) {
        if (alive) setError(errorMessage(err));
      }
      if (alive) timer = setTimeout(() => void refresh(), intervalMs);
    };
    void refresh();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [collect, intervalMs]);
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      if (input === 'q' || input === 'Q' || (key.ctrl && input === 'c')) onQuit();
    },
    { isActive: isRawModeSupported },
  );
  return <StatusView report={report} error={error} />;
}

/** Shows the refreshing view until the user quits. */
export async function watchStatus(collect: () => Promise<StatusReport>, intervalMs = 2_000): Promise<void> {
  let quit!: () => void;
  const done = new Promise<void>((r) => (quit = r));
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  const app = render(<Watch collect={collect} intervalMs={intervalMs} onQuit={quit} />, { exitOnCtrlC: false, patchConsole: false });
  try {
    await done;
  } finally {
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
    app.unmount();
    await app.waitUntilExit().catch(() => {});
  }
}
