/** `iamwatch validate`: check a jobs file; every problem is reported, not just the first. */
import type { Diagnostic } from '../../jobsfile/job.js';
import { configFrom, loadJobsFile } from '../load.js';

export interface ValidateReport {
  file: string;
  valid: boolean;
  jobs: Array<{ job: string; watcher: string; mode: string; schedule: string; tz: string; line: number }>;
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
}

export async function validate(opts: { config?: string; plugin?: string[] }): Promise<ValidateReport> {
  const { jobsFile } = await loadJobsFile(configFrom(opts));
  const errors = jobsFile.diagnostics.filter((d) => d.severity === 'error').length;
  return {
    file: jobsFile.file,
    valid: errors === 0,
    jobs: jobsFile.jobs.map((j) => ({ job: j.name, watcher: j.watcher, mode: j.mode, schedule: j.schedule.source, tz: j.tz, line: j.line })),
    errors,
    warnings: jobsFile.diagnostics.length - errors,
    diagnostics: jobsFile.diagnostics,
  };
}

export function summary(r: ValidateReport): string {
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  return r.valid
    ? `${r.file}: OK, ${count(r.jobs.length, 'job')}${r.warnings ? `, ${count(r.warnings, 'warning')}` : ''}`
    : `${r.file}: ${count(r.errors, 'error')}${r.warnings ? `, ${count(r.warnings, 'warning')}` : ''}`;
}
