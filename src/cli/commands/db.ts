/**
 * `iamwatch db init [--demo]` and `iamwatch db check`: create what is missing of the IAM schema
 * (never altering existing tables unless --add-indexes), and report what the watchers still need,
 * with the statement to add each missing index. Plain functions returning data, and renderers.
 */
import { existsSync } from 'node:fs';
import { databaseLabel, openDatabase } from '../../db/connect.js';
import type { DemoCounts, SchemaCheck, SchemaProblem } from '../../db/schema.js';
import { IamwatchError } from '../../base/errors.js';
import type { JobsFile } from '../../jobsfile/job.js';
import { checkSetting, settingProblem } from '../../jobsfile/settings.js';
import { configPath, configFrom, loadValidJobsFile } from '../load.js';

/**
 * DATABASE_URL from the jobs file (which falls back to the environment), or from the environment
 * alone when no -c was given and there is no jobs file; a jobs file with errors is refused.
 */
export async function databaseUrlFor(opts: { config?: string; plugin?: string[] }, onDiagnostics: (jf: JobsFile) => void): Promise<string | undefined> {
  if (opts.config === undefined && process.env.IAMWATCH_CONFIG === undefined && !existsSync(configPath(undefined))) {
    const url = process.env.DATABASE_URL || undefined;
    const problem = url === undefined ? null : checkSetting('DATABASE_URL', url);
    if (problem) throw new IamwatchError('INVALID_INPUT', settingProblem('DATABASE_URL', 'environment', problem));
    return url;
  }
  const { jobsFile } = await loadValidJobsFile(configFrom(opts), onDiagnostics);
  return jobsFile.settings.databaseUrl;
}

export interface DbOptions {
  /** DATABASE_URL from the jobs file or environment; unset = the embedded SQLite default. */
  databaseUrl?: string;
}

/** A missing table, column or index as printed: `statement` (the one that adds a missing index) null when there is none. */
export interface DbProblem extends Omit<SchemaProblem, 'statement'> {
  statement: string | null;
}

/** A schema check as printed. */
export interface DbSchemaCheck {
  dialect: SchemaCheck['dialect'];
  ok: boolean;
  tables: SchemaCheck['tables'];
  problems: DbProblem[];
}

export interface DbInitReport {
  database: string;
  dialect: SchemaCheck['dialect'];
  createdTables: string[];
  existingTables: string[];
  createdIndexes: string[];
  /** Rows --demo inserted per table, or null without --demo. */
  demo: DemoCounts | null;
  /** The schema after init. */
  check: DbSchemaCheck;
}

export interface DbCheckReport {
  database: string;
  dialect: SchemaCheck['dialect'];
  ok: boolean;
  tables: SchemaCheck['tables'];
  problems: DbProblem[];
}

const problemsOf = (c: SchemaCheck): DbProblem[] =>
  c.problems.map((p) => ({ kind: p.kind, table: p.table, name: p.name, message: p.message, statement: p.statement ?? null }));

export async function dbInit(opts: DbOptions & { demo?: boolean; addIndexes?: boolean }): Promise<DbInitReport> {
  const db = await openDatabase(opts.databaseUrl, { initEmbedded: false });
  try {
    const { initSchema } = await import('../../db/schema.js');
    const r = await initSchema(db, { demo: opts.demo ?? false, addIndexes: opts.addIndexes ?? false });
    return {
      database: databaseLabel(opts.databaseUrl),
      dialect: r.dialect,
      createdTables: r.createdTables,
      existingTables: r.existingTables,
      createdIndexes: r.createdIndexes,
      demo: r.demo,
      check: { dialect: r.check.dialect, ok: r.check.ok, tables: r.check.tables, problems: problemsOf(r.check) },
    };
  } finally {
    await db.destroy();
  }
}

export async function dbCheck(opts: DbOptions): Promise<DbCheckReport> {
  const db = await openDatabase(opts.databaseUrl, { initEmbedded: false });
  try {
    const { checkSchema } = await import('../../db/schema.js');
    const c = await checkSchema(db);
    return { database: databaseLabel(opts.databaseUrl), dialect: c.dialect, ok: c.ok, tables: c.tables, problems: problemsOf(c) };
  } finally {
    await db.destroy();
  }
}

function renderProblems(problems: DbProblem[]): string[] {
  const lines: string[] = [];
  for (const p of problems) {
    lines.push(`  missing ${p.kind}: ${p.message}`);
    if (p.statement) lines.push(`    to add it: ${p.statement}`);
  }
  return lines;
}

export function renderDbInit(r: DbInitReport): string {
  const lines = [`${r.database} (${r.dialect})`];
  lines.push(r.createdTables.length > 0 ? `created tables: ${r.createdTables.join(', ')}` : 'created no tables');
  if (r.existingTables.length > 0) lines.push(`left as they were: ${r.existingTables.join(', ')}`);
  if (r.createdIndexes.length > 0) lines.push(`created indexes: ${r.createdIndexes.join(', ')}`);
  if (r.demo) {
    const d = r.demo;
    lines.push(`demo rows: ${d.users} users, ${d.policyAudits} policy_audit rows, ${d.secrets} secrets (tables that already had rows were not filled)`);
  }
  if (r.check.ok) lines.push('schema OK: the watchers have what they need');
  else lines.push('still missing (db init does not alter existing tables; run the statements or pass --add-indexes):', ...renderProblems(r.check.problems));
  return lines.join('\n');
}

export function renderDbCheck(r: DbCheckReport): string {
  const lines = [`${r.database} (${r.dialect})`];
  for (const t of r.tables) lines.push(`  ${t.present ? 'present' : 'MISSING'}  ${t.table}`);
  lines.push(r.ok ? 'schema OK: the watchers have what they need' : `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:`);
  lines.push(...renderProblems(r.problems));
  return lines.join('\n');
}
