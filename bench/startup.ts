/**
 * Cold start of `iamwatch next` and `iamwatch validate` against a bare `node -e 0` on the same
 * machine. The target is within 2x. A benchmark, not a timed test: it prints a table.
 *
 *   node --import tsx bench/startup.ts        (needs a build: npm run build)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WARMUPS = 3;
const RUNS = 30;
const TARGET_RATIO = 2;

interface Case {
  label: string;
  args: string[];
}

const CASES: Case[] = [
  { label: 'node -e 0', args: ['-e', '0'] },
  { label: "iamwatch next --spec '*/5 * * * *' --count 5", args: ['bin/iamwatch.js', 'next', '--spec', '*/5 * * * *', '--count', '5'] },
  { label: 'iamwatch validate -c watchers.conf.example', args: ['bin/iamwatch.js', 'validate', '-c', 'watchers.conf.example'] },
];

export interface StartupResult {
  label: string;
  medianMs: number;
  p90Ms: number;
  ratio: number;
}

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of ['IAMWATCH_CONFIG', 'REDIS_URL', 'DATABASE_URL', 'NODE_OPTIONS', 'FORCE_COLOR']) delete e[k];
  return e;
}

function timeOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

export function measureStartup(runs = RUNS, warmups = WARMUPS): StartupResult[] {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run npm run build first');
  const samples = new Map<string, number[]>(CASES.map((c) => [c.label, []]));
  for (let i = 0; i < warmups; i++) for (const c of CASES) timeOnce(c.args);
  // Interleave the cases so drift in machine load affects all of them alike.
  for (let i = 0; i < runs; i++) for (const c of CASES) samples.get(c.label)!.push(timeOnce(c.args));
  const baseline = quantile([...samples.get(CASES[0]!.label)!].sort((a, b) => a - b), 0.5);
  return CASES.map((c) => {
    const sorted = [...samples.get(c.label)!].sort((a, b) => a - b);
    const medianMs = quantile(sorted, 0.5);
    return { label: c.label, medianMs, p90Ms: quantile(sorted, 0.9), ratio: medianMs / baseline };
  });
}

export function formatStartup(results: StartupResult[]): string {
  const header = ['command', 'median ms', 'p90 ms', 'vs node -e 0'];
  const rows = results.map((r) => [r.label, r.medianMs.toFixed(1), r.p90Ms.toFixed(1), `${r.ratio.toFixed(2)}x`]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export async function benchStartup(): Promise<void> {
  const results = measureStartup();
  console.log(`startup: ${RUNS} runs each after ${WARMUPS} warm-ups, node ${process.version}, target <= ${TARGET_RATIO}x`);
  console.log(formatStartup(results));
  const worst = Math.max(...results.slice(1).map((r) => r.ratio));
  console.log(worst <= TARGET_RATIO ? `OK: worst ${worst.toFixed(2)}x` : `OVER TARGET: worst ${worst.toFixed(2)}x (target ${TARGET_RATIO}x)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await benchStartup();
}
