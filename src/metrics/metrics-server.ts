// The Prometheus scrape endpoint: GET /metrics (text exposition) and GET /healthz, nothing else.
// Plain node:http so the gateway carries no web framework. Bound to 127.0.0.1 by default in
// the config (metrics can reveal the network's exporters and volumes); expose it deliberately.
//
//   const server = await startMetricsServer(metrics.registry, { host: '127.0.0.1', port: 9590 });
//   server.address   // { host, port } actually bound (port 0 → the port the OS chose)
//   await server.close();
//
// Responses: GET|HEAD /metrics → 200 with registry.contentType; GET|HEAD /healthz → 200 "ok";
// another path → 404; another method on those paths → 405 with an Allow header; a failing
// registry read → 500. HEAD is served like GET without a body, as HTTP requires of any server
// that serves GET; probes commonly use it.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server reads: a prom-client Registry, or GatewayMetrics itself. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServerOptions {
  host: string;
  /** 0 → any free port (tests); the bound port is in the result's address. */
  port: number;
}

export interface MetricsServer {
  readonly address: { host: string; port: number };
  /** Stops accepting connections, lets a scrape in progress finish, closes idle keep-alives. */
  close(): Promise<void>;
}

const ALLOW = 'GET, HEAD';

export function startMetricsServer(source: MetricsSource, options: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    handle(source, req, res).catch(() => {
      // handle() answers its own failures; this only guards a socket torn down mid-response
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // A scraper never needs long; slow or idle clients must not pin sockets open.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  return new Promise<MetricsServer>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({
        address: { host: a.address, port: a.port },
        close: () => new Promise<void>((done, fail) => {
          server.close((err) => (err ? fail(err) : done()));
          server.closeIdleConnections();
        }),
      });
    });
  });
}

async function handle(source: MetricsSource, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  if (path !== '/metrics' && path !== '/healthz') return reply(res, 404, 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n', { Allow: ALLOW });
  if (path === '/healthz') return reply(res, 200, 'ok\n');
  let body: string;
  try {
    body = await source.metrics();
  } catch (err) {
    return reply(res, 500, `metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  reply(res, 200, body, { 'Content-Type': source.contentType });
}

function reply(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    ...headers,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
