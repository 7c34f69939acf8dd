import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BotPenguinClient, type BotPenguinClientOptions } from '../../../src/botpenguin/client';
import type { AttemptGate } from '../../../src/requests/ports';

const TOKEN = 'xtok-SECRET-123';

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** Answers the n-th request (0-based). Doing nothing leaves the request hanging. */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

interface FakeServer {
  url: string;
  requests: Recorded[];
  connections: () => number;
}

const servers: http.Server[] = [];
const clients: BotPenguinClient[] = [];
/** Every result and onAttempt payload seen in a test; afterEach checks none carries the token. */
let seen: unknown[] = [];

async function startServer(handler: Handler): Promise<FakeServer> {
  const requests: Recorded[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const n = requests.length;
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume(); // drain any request body
    handler(req, res, n);
  });
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, connections: () => connections };
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const OK_BODY = { success: true, message: '', code: 200 };

function makeClient(baseUrl: string, overrides: Partial<BotPenguinClientOptions> = {}) {
  const sleeps: number[] = [];
  const attempts: Array<{ attempt: number; status?: number; error?: string; retryInMs?: number }> = [];
  const client = new BotPenguinClient({
    baseUrl,
    token: TOKEN,
    timeoutMs: 2000,
    backoffBaseMs: 1,
    backoffCapMs: 4,
    // Record the wait instead of really waiting, so Retry-After: 1 costs no time.
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onAttempt: (info) => {
      attempts.push(info);
      seen.push(info);
    },
    ...overrides,
  });
  clients.push(client);
  const del = async (id: string, mayAttempt: AttemptGate = async () => true) => {
    const result = await client.deleteCustomer(id, mayAttempt);
    seen.push(result);
    return result;
  };
  const list = async (page: number) => {
    const result = await client.listCustomers(page);
    seen.push(result);
    return result;
  };
  return { client, sleeps, attempts, del, list };
}

afterEach(async () => {
  const values = seen;
  seen = [];
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections(); // hanging requests would otherwise keep close() waiting
          s.close(() => resolve());
        }),
    ),
  );
  for (const value of values) {
    const text = JSON.stringify(value);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toMatch(/Bearer (?!\[redacted\])/);
  }
});

describe('deleteCustomer', () => {
  test('success: DELETE /customer/<id> with Bearer token and authtype Key', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, OK_BODY));
    const { del, attempts } = makeClient(srv.url);

    const result = await del('64f0c0ffee');

    expect(result).toEqual({ ok: true, status: 200, attempts: 1, message: 'BotPenguin confirmed the deletion' });
    expect(srv.requests).toHaveLength(1);
    expect(srv.requests[0].method).toBe('DELETE');
    expect(srv.requests[0].url).toBe('/customer/64f0c0ffee');
    expect(srv.requests[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(srv.requests[0].headers.authtype).toBe('Key');
    expect(attempts).toEqual([{ attempt: 1, status: 200 }]);
  });

  test('keeps the path prefix of the base URL, with or without a trailing slash', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, { success: true, message: 'Customer deleted' }));
    const a = makeClient(`${srv.url}/bp`);
    const b = makeClient(`${srv.url}/bp/`);

    expect(await a.del('c1')).toMatchObject({ ok: true, message: 'Customer deleted' });
    expect(await b.del('c2')).toMatchObject({ ok: true });
    expect(srv.requests.map((r) => r.url)).toEqual(['/bp/customer/c1', '/bp/customer/c2']);
  });

  test('URL-encodes the customer id', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, OK_BODY));
    const { del } = makeClient(srv.url);

    expect(await del('a/b?c')).toMatchObject({ ok: true });
    expect(srv.requests[0].url).toBe('/customer/a%2Fb%3Fc');
  });

  test('refuses ids that would not address one customer, without sending anything', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, OK_BODY));
    const { del } = makeClient(srv.url);

    for (const id of ['', '   ', '.', '..', '\ud800']) {
      expect(await del(id)).toMatchObject({ ok: false, kind: 'rejected', attempts: 0 });
    }
    expect(srv.requests).toHaveLength(0);
  });

  test('HTTP 200 with success:false is a failure showing BotPenguin’s message, not retried', async () => {
    const srv = await startServer((_req, res) =>
      sendJson(res, 200, { success: false, message: 'Customer has active bots', code: 400 }),
    );
    const { del, sleeps } = makeClient(srv.url);

    expect(await del('c1')).toEqual({
      fromBotPenguin: true,
      ok: false,
      kind: 'rejected',
      status: 200,
      attempts: 1,
      message: 'Customer has active bots',
    });
    expect(srv.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test('HTTP 200 with success:false and code 404 is not_found', async () => {
    const srv = await startServer((_req, res) =>
      sendJson(res, 200, { success: false, message: 'No such customer', code: 404 }),
    );
    const { del } = makeClient(srv.url);

    expect(await del('c1')).toEqual({
      fromBotPenguin: true,
      ok: false,
      kind: 'not_found',
      status: 200,
      attempts: 1,
      message: 'No such customer',
    });
  });

  test('404 is not_found after one attempt', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 404, { success: false, message: 'Customer not found' }));
    const { del } = makeClient(srv.url);

    const result = await del('c1');
    expect(result).toEqual({
      fromBotPenguin: true,
      ok: false,
      kind: 'not_found',
      status: 404,
      attempts: 1,
      message: 'Customer not found',
    });
    expect(srv.requests).toHaveLength(1);
  });

  test('401 and 403 are unauthorized after one attempt', async () => {
    const srv = await startServer((_req, res, n) => {
      if (n === 0) sendJson(res, 401, { success: false });
      else sendJson(res, 403, { success: false, message: 'Forbidden' });
    });
    const { del } = makeClient(srv.url);

    expect(await del('c1')).toEqual({
      ok: false,
      kind: 'unauthorized',
      status: 401,
      attempts: 1,
      message: 'BotPenguin rejected the API token (HTTP 401)',
    });
    expect(await del('c1')).toMatchObject({
      ok: false,
      kind: 'unauthorized',
      status: 403,
      attempts: 1,
      message: 'Forbidden',
    });
    expect(srv.requests).toHaveLength(2);
  });

  test('other 4xx is rejected, not retried', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 400, { success: false, message: 'Invalid id' }));
    const { del } = makeClient(srv.url);

    expect(await del('c1')).toEqual({
      fromBotPenguin: true,
      ok: false,
      kind: 'rejected',
      status: 400,
      attempts: 1,
      message: 'Invalid id',
    });
    expect(srv.requests).toHaveLength(1);
  });

  test('429 with Retry-After: 1 then 200 succeeds on attempt 2 after asking to sleep 1000 ms', async () => {
    const srv = await startServer((_req, res, n) => {
      if (n === 0) sendJson(res, 429, { success: false }, { 'retry-after': '1' });
      else sendJson(res, 200, OK_BODY);
    });
    const { del, sleeps, attempts } = makeClient(srv.url);

    expect(await del('c1')).toMatchObject({ ok: true, status: 200, attempts: 2 });
    expect(sleeps).toEqual([1000]);
    expect(attempts).toEqual([
      { attempt: 1, status: 429, error: 'BotPenguin is rate limiting requests (HTTP 429)', retryInMs: 1000 },
      { attempt: 2, status: 200 },
    ]);
  });

  test('Retry-After as an HTTP-date is honoured, and long waits are capped at 30 s', async () => {
    const srv = await startServer((_req, res, n) => {
      if (n === 0) sendJson(res, 429, {}, { 'retry-after': new Date(Date.now() + 3000).toUTCString() });
      else if (n === 1) sendJson(res, 503, {}, { 'retry-after': '3600' });
      else sendJson(res, 200, OK_BODY);
    });
    const { del, sleeps } = makeClient(srv.url);

    expect(await del('c1')).toMatchObject({ ok: true, attempts: 3 });
    // HTTP-dates have 1 s resolution, so "now + 3 s" is 2–3 s away.
    expect(sleeps[0]).toBeGreaterThanOrEqual(1000);
    expect(sleeps[0]).toBeLessThanOrEqual(3000);
    expect(sleeps[1]).toBe(30_000);
  });

  test('429 on every attempt is rate_limited', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 429, { success: false, message: 'Too many requests' }));
    const { del } = makeClient(srv.url, { maxAttempts: 3 });

    expect(await del('c1')).toEqual({
      fromBotPenguin: true,
      ok: false,
      kind: 'rate_limited',
      status: 429,
      attempts: 3,
      message: 'Too many requests',
    });
    expect(srv.requests).toHaveLength(3);
  });

  test('500 then success', async () => {
    const srv = await startServer((_req, res, n) => {
      if (n === 0) sendJson(res, 500, { message: 'Internal error' });
      else sendJson(res, 200, OK_BODY);
    });
    const { del, attempts } = makeClient(srv.url);

    expect(await del('c1')).toMatchObject({ ok: true, status: 200, attempts: 2 });
    expect(attempts[0]).toMatchObject({ attempt: 1, status: 500, error: 'Internal error' });
  });

  test('500 five times is server_error after 5 attempts, with growing jittered backoff', async () => {
    const srv = await startServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html>oops</html>');
    });
    const { del, sleeps, attempts } = makeClient(srv.url, { backoffBaseMs: 100, backoffCapMs: 300 });

    expect(await del('c1')).toEqual({
      answerUnknown: true,
      ok: false,
      kind: 'server_error',
      status: 500,
      attempts: 5,
      message: 'HTTP 500 from BotPenguin',
    });
    expect(srv.requests).toHaveLength(5);
    // Equal jitter: between half and all of min(cap, base * 2^(n-1)).
    const bounds = [
      [50, 100],
      [100, 200],
      [150, 300],
      [150, 300],
    ];
    expect(sleeps).toHaveLength(4);
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(bounds[i][0]);
      expect(ms).toBeLessThanOrEqual(bounds[i][1]);
    });
    expect(attempts.map((a) => a.retryInMs)).toEqual([...sleeps, undefined]);
  });

  test('a server that never answers times out per attempt and is retried', async () => {
    const srv = await startServer(() => {
      /* never answer */
    });
    const { del, attempts } = makeClient(srv.url, { timeoutMs: 200, maxAttempts: 3 });

    const started = Date.now();
    const result = await del('c1');
    expect(result).toEqual({
      answerUnknown: true,
      ok: false,
      kind: 'timeout',
      attempts: 3,
      message: 'BotPenguin did not answer within 200 ms',
    });
    expect(srv.requests).toHaveLength(3);
    expect(attempts.map((a) => a.error)).toEqual(Array(3).fill('BotPenguin did not answer within 200 ms'));
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('a body that stalls after the headers also times out', async () => {
    const srv = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"success":'); // ...and nothing more
    });
    const { del } = makeClient(srv.url, { timeoutMs: 200, maxAttempts: 2 });

    expect(await del('c1')).toMatchObject({ ok: false, kind: 'timeout', attempts: 2 });
  });

  test('a 404 after an attempt with no clear answer is flagged as possibly already deleted', async () => {
    const srv = await startServer((_req, res, n) => {
      if (n === 0) return; // times out: the DELETE may or may not have happened
      sendJson(res, 404, { success: false, message: 'Customer not found' });
    });
    const { del } = makeClient(srv.url, { timeoutMs: 200 });

    const result = await del('c1');
    expect(result).toMatchObject({
      ok: false,
      kind: 'not_found',
      status: 404,
      attempts: 2,
      earlierAttemptUncertain: true,
    });
    expect(result.message).toMatch(/^Customer not found \(an earlier attempt/);
  });

  test('a refusal (403, or success:false) after an attempt with no clear answer is answerUnknown, not a plain failure', async () => {
    const srv = await startServer((_req, res, n) => {
      if (n === 0) return sendJson(res, 503, { success: false, message: 'Service Unavailable' });
      if (n === 1) return sendJson(res, 403, { success: false, message: 'Forbidden' });
      sendJson(res, 200, { success: false, message: 'Refused' });
    });
    const { del } = makeClient(srv.url);
    expect(await del('c1')).toMatchObject({ ok: false, kind: 'unauthorized', status: 403, answerUnknown: true });
    expect(await del('c2')).toMatchObject({ ok: false, kind: 'rejected', status: 200, attempts: 1 });
    expect(await del('c3')).not.toHaveProperty('answerUnknown'); // no unknown attempt before it: plainly refused
  });

  test('the gate is asked before every attempt: held, nothing more is sent, and an unknown earlier attempt is said', async () => {
    const srv = await startServer((_req, res) =>
      sendJson(res, 503, { success: false, message: 'Service Unavailable' }),
    );
    const { del } = makeClient(srv.url, { maxAttempts: 5 });
    const asked: number[] = [];
    const result = await del('c1', async (attempt) => {
      asked.push(attempt);
      return attempt < 3;
    });
    expect(asked).toEqual([1, 2, 3]);
    expect(srv.requests).toHaveLength(2);
    expect(result).toMatchObject({ ok: false, kind: 'held', attempts: 2, answerUnknown: true });

    const none = await del('c2', async () => false);
    expect(none).toMatchObject({ ok: false, kind: 'held', attempts: 0 });
    expect(none).not.toHaveProperty('answerUnknown');
    expect(srv.requests).toHaveLength(2); // nothing sent for c2
  });

  test('a reset connection is a network failure, retried', async () => {
    const srv = await startServer((req) => req.socket.destroy());
    const { del } = makeClient(srv.url, { maxAttempts: 3 });

    const result = await del('c1');
    expect(result).toMatchObject({ ok: false, kind: 'network', attempts: 3 });
    expect(result.message).toMatch(
      /^The connection to BotPenguin was closed unexpectedly \((UND_ERR_SOCKET|ECONNRESET)\)$/,
    );
    expect(srv.requests).toHaveLength(3);
  });

  test('a refused connection is a network failure, retried', async () => {
    const srv = await startServer(() => undefined);
    const closed = servers.pop() as http.Server;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { del } = makeClient(srv.url, { maxAttempts: 2 });

    expect(await del('c1')).toEqual({
      ok: false,
      kind: 'network',
      attempts: 2,
      message: 'BotPenguin refused the connection (ECONNREFUSED)',
    });
  });

  test('HTTP 200 with a non-JSON body is bad_response', async () => {
    const srv = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>maintenance</html>');
    });
    const { del } = makeClient(srv.url);

    expect(await del('c1')).toEqual({
      ok: false,
      kind: 'bad_response',
      status: 200,
      attempts: 1,
      message: 'BotPenguin answered HTTP 200 without the expected JSON body',
    });
  });

  test('HTTP 200 with JSON lacking `success` is bad_response', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, { ok: 1 }));
    const { del } = makeClient(srv.url);

    expect(await del('c1')).toMatchObject({ ok: false, kind: 'bad_response', attempts: 1 });
  });

  test('an oversized 200 body is bad_response', async () => {
    const srv = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"success":true,"pad":"${'x'.repeat(1024 * 1024 + 10)}"}`);
    });
    const { del } = makeClient(srv.url);

    expect(await del('c1')).toMatchObject({ ok: false, kind: 'bad_response', status: 200, attempts: 1 });
  });

  test('a BotPenguin message echoing the token is redacted', async () => {
    const srv = await startServer((req, res) =>
      sendJson(res, 400, { success: false, message: `bad header: ${req.headers.authorization}` }),
    );
    const { del, attempts } = makeClient(srv.url);

    const result = await del('c1');
    expect(result.message).toBe('bad header: Bearer [redacted]');
    expect(attempts).toEqual([{ attempt: 1, status: 400, error: 'bad header: Bearer [redacted]' }]);
  });

  test('response bodies are consumed so the pooled connection is reused', async () => {
    const srv = await startServer((_req, res, n) => {
      if (n % 2 === 0) sendJson(res, 404, { success: false, message: 'x'.repeat(10_000) });
      else sendJson(res, 200, OK_BODY);
    });
    const { del } = makeClient(srv.url);

    for (let i = 0; i < 8; i++) await del(`c${i}`);
    expect(srv.requests).toHaveLength(8);
    // Not exactly 1: undici frees a connection a tick after the body ends, so a request sent right
    // away may open a second one. Unconsumed bodies would need a new connection per request.
    expect(srv.connections()).toBeLessThanOrEqual(2);
  });

  test('resolves (never throws) after close()', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, OK_BODY));
    const { client, del } = makeClient(srv.url);
    await client.close();
    await client.close(); // idempotent

    expect(await del('c1')).toEqual({
      ok: false,
      kind: 'network',
      attempts: 1,
      message: 'The BotPenguin client has been shut down',
    });
    expect(srv.requests).toHaveLength(0);
  });

  test('a throwing onAttempt hook does not break the deletion', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 200, OK_BODY));
    const { del } = makeClient(srv.url, {
      onAttempt: () => {
        throw new Error('logger down');
      },
    });

    expect(await del('c1')).toMatchObject({ ok: true, attempts: 1 });
  });
});

describe('listCustomers', () => {
  test('GETs /customer/list?page=N and parses leniently, skipping entries without an _id', async () => {
    const srv = await startServer((_req, res) =>
      sendJson(res, 200, {
        success: true,
        code: 200,
        data: [
          { _id: 'a1', name: 'Alice', contact: { email: 'alice@example.com', phone: '1' }, status: 'active', extra: 1 },
          { _id: 'b2' },
          { _id: 'c3', name: 7, contact: null, status: '' },
          { name: 'no id' },
          { _id: 42 },
          { _id: '' },
          'junk',
          null,
        ],
      }),
    );
    const { list } = makeClient(`${srv.url}/bp/`);

    expect(await list(2)).toEqual({
      ok: true,
      customers: [
        { id: 'a1', name: 'Alice', email: 'alice@example.com', status: 'active' },
        { id: 'b2', name: null, email: null, status: null },
        { id: 'c3', name: null, email: null, status: null },
      ],
    });
    expect(srv.requests).toHaveLength(1);
    expect(srv.requests[0]).toMatchObject({
      method: 'GET',
      url: '/bp/customer/list?page=2',
      headers: expect.objectContaining({ authorization: `Bearer ${TOKEN}`, authtype: 'Key' }),
    });
  });

  test('a 500 is a failure after a single attempt', async () => {
    const srv = await startServer((_req, res) => sendJson(res, 500, {}));
    const { list, sleeps } = makeClient(srv.url);

    expect(await list(1)).toEqual({ ok: false, message: 'HTTP 500 from BotPenguin' });
    expect(srv.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test('success:false, a missing list and non-JSON are failures', async () => {
    const srv = await startServer((_req, res, n) => {
      if (n === 0) sendJson(res, 200, { success: false, message: 'Partner not allowed' });
      else if (n === 1) sendJson(res, 200, { success: true });
      else res.end('nope');
    });
    const { list } = makeClient(srv.url);

    expect(await list(1)).toEqual({ ok: false, message: 'Partner not allowed' });
    expect(await list(1)).toMatchObject({ ok: false });
    expect(await list(1)).toMatchObject({ ok: false });
  });

  test('times out', async () => {
    const srv = await startServer(() => {
      /* never answer */
    });
    const { list } = makeClient(srv.url, { timeoutMs: 200 });

    expect(await list(1)).toEqual({ ok: false, message: 'BotPenguin did not answer within 200 ms' });
    expect(srv.requests).toHaveLength(1);
  });
});

describe('constructor', () => {
  test('rejects bad options without echoing the token', () => {
    expect(() => new BotPenguinClient({ baseUrl: 'not a url', token: TOKEN, timeoutMs: 1000 })).toThrow(/baseUrl/);
    expect(() => new BotPenguinClient({ baseUrl: 'ftp://x', token: TOKEN, timeoutMs: 1000 })).toThrow(/http/);
    expect(() => new BotPenguinClient({ baseUrl: 'http://x', token: `${TOKEN}\n`, timeoutMs: 1000 })).toThrow(
      /^BotPenguin token is empty/,
    );
    expect(() => new BotPenguinClient({ baseUrl: 'http://x', token: TOKEN, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('onCall: each HTTP attempt, timed, with how it ended (for the metrics)', () => {
  test('a DELETE answered 500, then 429, then 200 reports three attempts; a list reports one', async () => {
    const server = await startServer((_req, res, n) => {
      if (n === 0) return sendJson(res, 500, { success: false });
      if (n === 1) return sendJson(res, 429, { success: false });
      if (n === 2) return sendJson(res, 200, OK_BODY);
      return sendJson(res, 401, { success: false });
    });
    const calls: Array<[string, string, number]> = [];
    const { del, list } = makeClient(server.url, { onCall: (...call) => calls.push(call) });
    expect((await del('64b7f0c2e4b0a1b2c3d4e5f6')).ok).toBe(true);
    expect((await list(0)).ok).toBe(false);
    expect(calls.map(([operation, result]) => [operation, result])).toEqual([
      ['delete_customer', 'server_error'],
      ['delete_customer', 'rate_limited'],
      ['delete_customer', 'ok'],
      ['list_customers', 'unauthorized'],
    ]);
    for (const [, , seconds] of calls) {
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(2);
    }
  });

  test('an id refused before sending reports nothing', async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, OK_BODY));
    const calls: unknown[] = [];
    const { del } = makeClient(server.url, { onCall: (...call) => calls.push(call) });
    expect((await del('..')).ok).toBe(false);
    expect(calls).toEqual([]);
  });
});
