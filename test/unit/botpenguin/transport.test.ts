// The HTTP transport on its own, against a local server: what one exchange gives back, the retry loop's
// rules, and that the name given (not "BotPenguin") is what its texts speak of.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AttemptInfo, HttpTransport, type Step, type TransportOptions } from '../../../src/botpenguin/transport';

const TOKEN = 'tok/with+chars=';

const servers: http.Server[] = [];
const transports: HttpTransport[] = [];

async function startServer(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function transport(baseUrl: string, overrides: Partial<TransportOptions> = {}) {
  const sleeps: number[] = [];
  const reports: AttemptInfo[] = [];
  const t = new HttpTransport({
    name: 'Acme',
    baseUrl,
    token: TOKEN,
    timeoutMs: 300,
    backoffBaseMs: 10,
    backoffCapMs: 40,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onAttempt: (info) => reports.push(info),
    ...overrides,
  });
  transports.push(t);
  return { t, sleeps, reports };
}

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

describe('send', () => {
  test('a response: status, body, Retry-After in ms, and the path joined to the base', async () => {
    let seen: { url?: string; auth?: string } = {};
    const url = await startServer((req, res) => {
      seen = { url: req.url, auth: req.headers.authorization };
      res.writeHead(503, { 'retry-after': '2' });
      res.end('busy');
    });
    const { t } = transport(`${url}/api/`);

    const exchange = await t.send('GET', '/things?page=1');
    expect(exchange).toEqual({ kind: 'response', status: 503, retryAfterMs: 2000, body: Buffer.from('busy') });
    expect(seen).toEqual({ url: '/api/things?page=1', auth: `Bearer ${TOKEN}` });
  });

  test('a body over 1 MiB is not kept (null)', async () => {
    const url = await startServer((_req, res) => res.end('x'.repeat(1024 * 1024 + 1)));
    // A generous timeout: 1 MiB over loopback on a loaded machine can take longer than the default 300 ms.
    const { t } = transport(url, { timeoutMs: 5_000 });

    expect(await t.send('GET', '/')).toMatchObject({ kind: 'response', status: 200, body: null });
  });

  test('a refused connection is a retryable network failure that was never sent, named after the service', async () => {
    const url = await startServer(() => undefined);
    await new Promise<void>((resolve) => (servers.pop() as http.Server).close(() => resolve()));
    const { t } = transport(url);

    expect(await t.send('DELETE', '/x')).toEqual({
      kind: 'network',
      retryable: true,
      sent: false,
      description: 'Acme refused the connection (ECONNREFUSED)',
    });
  });

  test('no answer within timeoutMs is a timeout that may have been sent', async () => {
    const url = await startServer(() => undefined);
    const { t } = transport(url, { timeoutMs: 100 });

    expect(await t.send('DELETE', '/x')).toEqual({
      kind: 'timeout',
      retryable: true,
      sent: true,
      description: 'Acme did not answer within 100 ms',
    });
  });
});

describe('retry', () => {
  const again = (value: string, retryAfterMs?: number): Step<string> => ({
    kind: 'retry',
    value,
    status: 503,
    error: `failed with ${TOKEN}`,
    retryAfterMs,
  });

  test('stops at the first done step, reporting every attempt redacted', async () => {
    const { t, sleeps, reports } = transport('http://127.0.0.1:9');
    const steps: Step<string>[] = [again('a'), { kind: 'done', value: 'b', status: 200 }];

    expect(await t.retry(async () => steps.shift() as Step<string>)).toBe('b');
    expect(sleeps).toHaveLength(1);
    expect(reports).toEqual([
      { attempt: 1, status: 503, error: 'failed with [redacted]', retryInMs: sleeps[0] },
      { attempt: 2, status: 200 },
    ]);
  });

  test('answers the last step’s value when maxAttempts are spent, without a last wait', async () => {
    const { t, sleeps, reports } = transport('http://127.0.0.1:9', { maxAttempts: 3 });
    let n = 0;

    expect(await t.retry(async () => again(`attempt ${++n}`))).toBe('attempt 3');
    expect(sleeps).toHaveLength(2);
    expect(reports.map((r) => r.retryInMs)).toEqual([...sleeps, undefined]);
  });

  test('waits at least the server’s Retry-After, at most 30 s', async () => {
    const { t, sleeps } = transport('http://127.0.0.1:9', { maxAttempts: 3 });
    const steps = [again('a', 5_000), again('b', 3_600_000), again('c')];

    await t.retry(async () => steps.shift() as Step<string>);
    expect(sleeps).toEqual([5_000, 30_000]);
  });
});

test('redact removes the token, raw and URL-encoded', () => {
  const { t } = transport('http://127.0.0.1:9');
  expect(t.redact(`a ${TOKEN} b ${encodeURIComponent(TOKEN)} c`)).toBe('a [redacted] b [redacted] c');
});

test('bad options are refused in the service’s name, without echoing the token', () => {
  const make = (o: Partial<TransportOptions>) => () =>
    new HttpTransport({ name: 'Acme', baseUrl: 'http://x', token: TOKEN, timeoutMs: 1000, ...o });
  expect(make({ baseUrl: 'nope' })).toThrow('Acme baseUrl is not a valid URL');
  expect(make({ baseUrl: 'http://x?q=1' })).toThrow('Acme baseUrl must not have a query or fragment');
  expect(make({ token: `${TOKEN} ` })).toThrow(/^Acme token is empty/);
  expect(make({ maxAttempts: 0 })).toThrow('maxAttempts must be an integer >= 1');
});
