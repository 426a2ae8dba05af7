/**
 * The live dashboard of `iamwatch run`: a header (instance, Redis and database state, clock skew,
 * live instances), one row per job (mode, schedule, zone, next occurrence with a countdown, state,
 * last outcome, ok/failed counts), the tail of the log, and a footer with the keys or the drain.
 * A pure view of a DashboardModel.
 */
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { Connection, DashboardModel, JobRow } from './model.js';
import { nextText, runDuration, shortDuration } from './format.js';

const COLUMNS = [
  ['JOB', 20],
  ['MODE', 9],
  ['SCHEDULE', 16],
  ['ZONE', 14],
  ['NEXT', 20],
  ['STATE', 24],
  ['OK/FAIL', 9],
] as const;

function Cell({ width, children, color, dim }: { width: number; children: ReactNode; color?: string; dim?: boolean }): ReactNode {
  return (
    <Box width={width} marginRight={1} flexShrink={0}>
      <Text wrap="truncate" color={color} dimColor={dim}>
        {children}
      </Text>
    </Box>
  );
}

function ConnectionText({ name, c }: { name: string; c: Connection }): ReactNode {
  const state = c.up === null ? '' : c.up ? ' up' : ' DOWN';
  return (
    <Text>
      {name} <Text dimColor>{c.label}</Text>
      <Text color={c.up === false ? 'red' : 'green'}>{state}</Text>
    </Text>
  );
}

function stateText(row: JobRow, now: number): { text: string; color?: string } {
  switch (row.state.kind) {
    case 'idle':
      return { text: 'idle' };
    case 'running-here':
      return { text: `running here ${shortDuration(now - row.state.since)}`, color: 'cyan' };
    case 'running-elsewhere':
      return { text: `running on ${row.state.instance}`, color: 'blue' };
    case 'skipped':
      return { text: `skipped (${row.state.reason})`, color: 'yellow' };
  }
}

function lastText(row: JobRow): { text: string; color?: string } {
  const l = row.last;
  if (!l) return { text: 'never', color: 'gray' };
  const what = l.summary ?? l.error;
  const text = `${l.outcome}${l.durationMs !== null ? ` ${runDuration(l.durationMs)}` : ''}${what ? `: ${what}` : ''}`;
  return { text, color: l.outcome === 'ok' ? 'green' : 'red' };
}

const LEVEL_COLOR: Record<string, string> = { error: 'red', fatal: 'red', warn: 'yellow', debug: 'gray' };

export function Dashboard({ model, logLines = 8 }: { model: DashboardModel; logLines?: number }): ReactNode {
  const m = model;
  const others = m.instances.filter((i) => !i.self);
  return (
    <Box flexDirection="column">
      <Box>
        <Text bold color="cyan">iamwatch </Text>
        <Text>
          instance <Text bold>{m.instance}</Text>  <ConnectionText name="Redis" c={m.redis} />
          {m.database ? (
            <>
              {'  '}
              <ConnectionText name="DB" c={m.database} />
            </>
          ) : null}
          {'  '}skew {m.skewMs === null ? '?' : `${m.skewMs} ms`}
        </Text>
      </Box>
      <Text>
        fleet: {m.instances.length || 1} live{others.length > 0 ? ` (${others.map((i) => `${i.instance}${i.running ? ` running ${i.running}` : ''}, beat ${shortDuration(m.now - i.lastBeat)} ago`).join('; ')})` : ''}
        <Text dimColor>  {m.file}</Text>
      </Text>
      <Box marginTop={1}>
        {COLUMNS.map(([title, width]) => (
          <Cell key={title} width={width}>
            <Text bold>{title}</Text>
          </Cell>
        ))}
        <Text bold>LAST</Text>
      </Box>
      {m.jobs.map((row) => {
        const st = stateText(row, m.now);
        const last = lastText(row);
        return (
          <Box key={row.name}>
            <Cell width={20}>{row.name}</Cell>
            <Cell width={9}>{row.mode}</Cell>
            <Cell width={16}>{row.schedule}</Cell>
            <Cell width={14}>{row.tz}</Cell>
            <Cell width={20}>{nextText(row.next, m.now, row.tz)}</Cell>
            <Cell width={24} color={st.color}>
              {st.text}
            </Cell>
            <Cell width={9}>
              <Text color="green">{row.ok}</Text>/<Text color={row.failed > 0 ? 'red' : undefined}>{row.failed}</Text>
            </Cell>
            <Box flexGrow={1}>
              <Text wrap="truncate" color={last.color}>
                {last.text}
              </Text>
            </Box>
          </Box>
        );
      })}
      <Box marginTop={1} flexDirection="column">
        <Text dimColor>── log ──</Text>
        {m.logs.slice(-logLines).map((l, i) => (
          <Text key={i} wrap="truncate" color={LEVEL_COLOR[l.level]}>
            {l.time} {l.level.padEnd(5)} {l.text}
          </Text>
        ))}
      </Box>
      <Box marginTop={1}>
        <Footer model={m} />
      </Box>
    </Box>
  );
}

function Footer({ model: m }: { model: DashboardModel }): ReactNode {
  const s = m.shutdown;
  if (!s) return <Text dimColor>q or Ctrl-C: graceful shutdown (running jobs finish first)</Text>;
  switch (s.phase) {
    case 'draining':
      return (
        <Text color="yellow">
          {s.signal}: draining, no new runs; waiting for {s.running} running job{s.running === 1 ? '' : 's'}
          {s.deadline !== undefined ? ` (up to ${shortDuration(s.deadline - m.now)})` : ''}. Press q or Ctrl-C again to abort them.
        </Text>
      );
    case 'aborting':
      return <Text color="red">aborting {s.running} running job{s.running === 1 ? '' : 's'}…</Text>;
    case 'closing':
      return <Text color="yellow">releasing locks, closing Redis and the database…</Text>;
    case 'stopped':
      return <Text color="green">stopped.</Text>;
  }
}
