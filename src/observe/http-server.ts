/**
 * The HTTP endpoint on METRICS_ADDR / --metrics: GET /metrics (Prometheus text), GET /healthz
 * (readiness: 200 "ok" or 503 with one reason per line; `?format=json` for the full report) and
 * GET /livez (liveness: 200 while the scheduler loop turns, answered from memory, whatever Redis
 * does; 503 only when the loop is stuck; `?format=json` likewise).
 */
import { createServer, type Server } from 'node:http';
import { IamwatchError } from '../base/errors.js';
import type { HealthReport } from './health.js';
import type { SchedulerView } from './heartbeat.js';
import { checkLiveness } from './liveness.js';
import type { Metrics } from './metrics.js';

export interface ObserveServer {
  /** host:port actually bound (port 0 resolves to the kernel's choice). */
  address: string;
  close(): Promise<void>;
}

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(\[[^\]]*\]|[^\s:]*):(\d{1,5})$/.exec(addr);
  if (!m || Number(m[2]) > 65535) throw new IamwatchError('USAGE', `metrics address "${addr}": expected host:port, e.g. 127.0.0.1:9464`);
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) };
}

export interface ObserveServerOptions {
  metrics: Metrics;
  /** Readiness, for /healthz. */
  health: () => Promise<HealthReport>;
  /** The scheduler loop whose liveness /livez reports. */
  scheduler: Pick<SchedulerView, 'lastTick' | 'stopping'>;
}

export async function startObserveServer(addr: string, o: ObserveServerOptions): Promise<ObserveServer> {
  const { host, port } = parseAddr(addr);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reply = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
    if (url.pathname === '/metrics') {
      o.metrics.scrape().then(
        (m) => reply(200, m.contentType, m.body),
        (err: unknown) => reply(500, 'text/plain', `metrics failed: ${String(err)}\n`),
      );
      return;
    }
    if (url.pathname === '/healthz' || url.pathname === '/health') {
      o.health().then(
        (h) => {
          const json = url.searchParams.get('format') === 'json';
          reply(h.ok ? 200 : 503, json ? 'application/json' : 'text/plain', json ? `${JSON.stringify(h)}\n` : h.ok ? 'ok\n' : `${h.reasons.join('\n')}\n`);
        },
        (err: unknown) => reply(503, 'text/plain', `health check failed: ${String(err)}\n`),
      );
      return;
    }
    if (url.pathname === '/livez') {
      const l = checkLiveness(o.scheduler);
      const json = url.searchParams.get('format') === 'json';
      return reply(l.ok ? 200 : 503, json ? 'application/json' : 'text/plain', json ? `${JSON.stringify(l)}\n` : `${l.detail}\n`);
    }
    reply(404, 'text/plain', 'not found: try /metrics, /healthz or /livez\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new IamwatchError('USAGE', `cannot listen on ${addr} for metrics: ${err.code ?? err.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : addr;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
