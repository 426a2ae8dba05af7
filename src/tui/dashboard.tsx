/**
 * The live dashboard of `iamwatch run`: a header (instance, Redis and database state, clock skew,
 * live instances), one row per job (mode, schedule, zone, next occurrence with a countdown, state
 * (running, paused, skipped, idle), last outcome, ok/failed counts), the tail of the log, and a footer with the keys or the drain.
 * A pure view of a DashboardModel. Every free text it shows (connection labels, run summaries and
 * errors, log lines) is redacted here, whatever its source already did.
 */
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { redactText } from '../base/redact.js';
import type { Connection, DashboardModel, JobRow } from './model.js';
import { nextText, pausedText, runDuration, shortDuration } from './format.js';

/** Column widths (margin included). Below WIDE columns, OK/FAIL and LAST go on a second line. */
const WIDE = 150;
const COLUMNS_WIDE = { job: 22, mode: 9, schedule: 16, zone: 18, next: 26, state: 32, counts: 9 };
const COLUMNS_NARROW = { job: 14, mode: 9, schedule: 12, zone: 17, next: 26, state: 21, counts: 0 };

function Cell({ width, children, color, dim }: { width: number; children: ReactNode; color?: string; dim?: boolean }): ReactNode {
  return (
    <Box width={width} paddingRight={1} flexShrink={0}>
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
      {name} <Text dimColor>{redactText(c.label)}</Text>
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
    case 'paused':
      return { text: pausedText(row.state, now, row.tz), color: 'yellow' };
  }
}

function lastText(row: JobRow): { text: string; color?: string } {
  const l = row.last;
  if (!l) return { text: 'never', color: 'gray' };
  const what = l.summary ?? l.error;
  const text = `${l.outcome}${l.durationMs !== null ? ` ${runDuration(l.durationMs)}` : ''}${what ? `: ${redactText(what)}` : ''}`;
  return { text, color: l.outcome === 'ok' ? 'green' : 'red' };
}

const LEVEL_COLOR: Record<string, string> = { error: 'red', fatal: 'red', warn: 'yellow', debug: 'gray' };

/** `width`: the terminal's columns (defaults to the whole available width). */
export function Dashboard({ model, logLines = 8, width }: { model: DashboardModel; logLines?: number; width?: number }): ReactNode {
  const m = model;
  const others = m.instances.filter((i) => !i.self);
  const wide = (width ?? WIDE) >= WIDE;
  const w = wide ? COLUMNS_WIDE : COLUMNS_NARROW;
  return (
    <Box flexDirection="column" width={width}>
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
        <Cell width={w.job}><Text bold>JOB</Text></Cell>
        <Cell width={w.mode}><Text bold>MODE</Text></Cell>
        <Cell width={w.schedule}><Text bold>SCHEDULE</Text></Cell>
        <Cell width={w.zone}><Text bold>ZONE</Text></Cell>
        <Cell width={w.next}><Text bold>NEXT</Text></Cell>
        <Cell width={w.state}><Text bold>STATE</Text></Cell>
        {wide ? (
          <>
            <Cell width={w.counts}><Text bold>OK/FAIL</Text></Cell>
            <Text bold>LAST</Text>
          </>
        ) : null}
      </Box>
      {m.jobs.map((row) => {
        const st = stateText(row, m.now);
        const last = lastText(row);
        const counts = (
          <Text>
            <Text color="green">{row.ok}</Text>/<Text color={row.failed > 0 ? 'red' : undefined}>{row.failed}</Text>
          </Text>
        );
        const lastCell = (
          <Text wrap="truncate" color={last.color}>
            {last.text}
          </Text>
        );
        return (
          <Box key={row.name} flexDirection="column">
            <Box>
              <Cell width={w.job}>{row.name}</Cell>
              <Cell width={w.mode}>{row.mode}</Cell>
              <Cell width={w.schedule}>{row.schedule}</Cell>
              <Cell width={w.zone}>{row.tz}</Cell>
              <Cell width={w.next}>{nextText(row.next, m.now, row.tz)}</Cell>
              <Cell width={w.state} color={st.color}>
                {st.text}
              </Cell>
              {wide ? (
                <>
                  <Cell width={w.counts}>{counts}</Cell>
                  <Box flexGrow={1}>{lastCell}</Box>
                </>
              ) : null}
            </Box>
            {wide ? null : (
              <Box paddingLeft={2}>
                <Text dimColor>ok/failed </Text>
                {counts}
                <Text dimColor>  last </Text>
                {lastCell}
              </Box>
            )}
          </Box>
        );
      })}
      <Box marginTop={1} flexDirection="column">
        <Text dimColor>── log ──</Text>
        {m.logs.slice(-logLines).map((l, i) => (
          <Text key={i} wrap="truncate" color={LEVEL_COLOR[l.level]}>
            {l.time} {l.level.padEnd(5)} {redactText(l.text)}
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
