/**
 * `npm run bench`: every benchmark, each printing its own table. Pick some with arguments:
 * `npm run bench -- startup scheduler db scale`. BENCH_SECONDS shortens the scheduler's 60 s runs;
 * SCALE_SECONDS (default 60) sets the counted window of the scale benchmark's phases (`iamwatch run`
 * processes at 10,000 jobs, with croner beside them; about 8 minutes at the default).
 */
import { benchDatabase } from './db.js';
import { benchScale } from './scale.js';
import { benchScheduler } from './scheduler.js';
import { benchStartup } from './startup.js';

const all: Record<string, () => Promise<void>> = { startup: benchStartup, scheduler: benchScheduler, db: benchDatabase, scale: benchScale };
const picked = process.argv.slice(2);
for (const name of picked.length ? picked : Object.keys(all)) {
  const bench = all[name];
  if (!bench) throw new Error(`unknown benchmark "${name}" (known: ${Object.keys(all).join(', ')})`);
  await bench();
}
