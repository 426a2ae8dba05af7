/**
 * Example plugin: status polling with iamwatch's `pollStatus` helper. Orders in status `pending`
 * are claimed (two instances never get the same order), "finished" by the handler, and set to
 * `done`; a failing order is retried after a delay and set to `failed` after max-attempts; the
 * orders of an instance that crashes mid-batch return to the pool when their lease runs out.
 *
 *   # watchers.conf
 *   PLUGINS=./examples/plugins/finish-orders.js
 *   @every 30s interval finish-orders batch-size=50
 *
 * On first run it creates its demo table `demo_order` with 200 pending orders (seed=0 to skip).
 */
// A project writes: import { defineWatcher, pollStatus } from 'iamwatch';
// This example lives inside the iamwatch repository, where that name does not resolve, so it
// imports the built package directly (run `npm run build` first).
import { defineWatcher, pollStatus } from '../../dist/index.js';

const TABLE = 'demo_order';

/** Creates and fills the demo table if it does not exist yet. */
async function ensureDemoTable(db, seed, log) {
  if (await db.schema.hasTable(TABLE)) return;
  await db.schema.createTable(TABLE, (t) => {
    t.increments('id').primary();
    t.string('customer', 64).notNullable();
    t.integer('totalCents').notNullable();
    t.string('status', 16).notNullable().defaultTo('pending');
    t.bigInteger('leaseUntil').nullable(); // claim expiry, epoch ms on the database clock
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('lastError', 1000).nullable();
    t.string('receipt', 64).nullable();
    t.index(['status', 'leaseUntil'], 'idx_demo_order_status_lease');
  });
  const rows = Array.from({ length: seed }, (_, i) => ({ customer: `customer${(i % 37) + 1}`, totalCents: 500 + ((i * 7919) % 20000), status: 'pending' }));
  for (let i = 0; i < rows.length; i += 100) await db(TABLE).insert(rows.slice(i, i + 100));
  log.info({ table: TABLE, orders: rows.length }, 'created the demo table');
}

export default defineWatcher({
  name: 'finish-orders',
  description: 'Example: finish pending demo orders with the status-polling helper.',
  database: true,
  options: {
    'batch-size': { type: 'int', min: 1, max: 1000, default: 20, description: 'Orders claimed at a time.' },
    lease: { type: 'duration', min: 1000, default: 60_000, description: 'How long a claim lasts before the orders return to the pool.' },
    'max-attempts': { type: 'int', min: 1, max: 100, default: 3, description: 'Tries before an order is marked failed.' },
    'fail-rate': { type: 'int', min: 0, max: 100, default: 5, description: 'Percent of orders whose first try fails (to show retries).' },
    seed: { type: 'int', min: 0, max: 100_000, default: 200, description: 'Demo orders to create with the table (0: create none).' },
  },
  async run(ctx) {
    if (ctx.dryRun) {
      // Report, change nothing (not even the demo table).
      const n = (await ctx.db.schema.hasTable(TABLE)) ? Number((await ctx.db(TABLE).where('status', 'pending').count({ n: '*' }).first()).n) : 0;
      return { summary: `would process up to ${n} pending orders`, rows: n, batches: 0, dryRun: true };
    }
    await ensureDemoTable(ctx.db, ctx.options.seed, ctx.log);
    const result = await pollStatus(ctx.db, {
      table: TABLE,
      key: 'id',
      statusColumn: 'status',
      from: 'pending',
      to: 'done',
      failed: 'failed',
      leaseColumn: 'leaseUntil',
      leaseMs: ctx.options.lease,
      attemptsColumn: 'attempts',
      maxAttempts: ctx.options['max-attempts'],
      retryDelayMs: 5_000,
      errorColumn: 'lastError',
      batchSize: ctx.options['batch-size'],
      signal: ctx.signal,
      log: ctx.log,
      async handler(order, { signal, attempt }) {
        if (signal.aborted) throw signal.reason;
        // Real work goes here: call the payment service, send the e-mail, ...
        if (attempt === 1 && (Number(order.id) * 37) % 100 < ctx.options['fail-rate']) throw new Error('payment service timed out');
        return { receipt: `R-${order.id}-${ctx.fence}` };
      },
    });
    return { summary: `finished ${result.done} orders (${result.retried} to retry, ${result.failed} failed)`, rows: result.done, dryRun: false, ...result };
  },
});
