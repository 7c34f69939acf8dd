// GET /metrics on its own port (METRICS_PORT), apart from the Slack endpoints, so nothing new is public by default.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one given for 0). */
  port: number;
  close(): Promise<void>;
}

export function startMetricsServer(registry: Registry, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://metrics');
    if (url.pathname !== '/metrics') return end(res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return end(res, 405, 'method not allowed\n');
    registry.metrics().then(
      (text) => end(res, 200, text, registry.contentType),
      () => end(res, 500, 'metrics could not be collected\n'),
    );
  });
  // A scraper that opens a connection and says nothing must not hold it for ever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}

function end(res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}
