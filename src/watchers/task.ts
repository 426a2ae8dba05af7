/** `task`: disable users inactive for max-inactive-days (set-based, batched, admins exempt). */
import { defineWatcher } from './define-watcher.js';

export const task = defineWatcher({
  name: 'task',
  description: 'Disable active users whose last login (or creation, if never logged in) is older than max-inactive-days.',
  database: true,
  options: {
    'max-inactive-days': { type: 'int', min: 0, max: 36_500, default: 180, description: 'Inactivity limit in days; 0 turns the watcher off.' },
    'include-admins': { type: 'bool', default: false, description: 'Also disable inactive admins.' },
    'disable-secrets': { type: 'bool', default: false, description: 'Also expire the secrets of users it disables.' },
    'batch-size': { type: 'int', min: 1, max: 100_000, default: 5000, description: 'Users examined per statement.' },
  },
  async run(ctx) {
    const { disableInactiveUsers } = await import('../db/housekeeping.js');
    return disableInactiveUsers(ctx.db, {
      maxInactiveDays: ctx.options['max-inactive-days'],
      includeAdmins: ctx.options['include-admins'],
      disableSecrets: ctx.options['disable-secrets'],
      batchSize: ctx.options['batch-size'],
      dryRun: ctx.dryRun,
      signal: ctx.signal,
      log: ctx.log,
    });
  },
});
