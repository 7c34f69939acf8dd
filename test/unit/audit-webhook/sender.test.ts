// The Standard Webhooks signature as a receiver checks it with the standardwebhooks package.
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createWebhookSender, signedHeaders } from '../../../src/audit-webhook/sender';
import { SECRET, startReceiver } from './support';

const BODY = JSON.stringify({ type: 'deleted', timestamp: '2026-12-04T12:00:00.000Z', data: { eventId: 1 } });

describe('the signature', () => {
  const headers = signedHeaders(new Webhook(SECRET), 'evt_1', new Date(), BODY);

  it('verifies with the secret, and gives back the payload', () => {
    expect(new Webhook(SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(headers['webhook-id']).toBe('evt_1');
    expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('does not verify with another secret, for another body, or for another id', () => {
    const other = `whsec_${crypto.randomBytes(32).toString('base64')}`;
    expect(() => new Webhook(other).verify(BODY, headers)).toThrow();
    expect(() => new Webhook(SECRET).verify(BODY.replace('deleted', 'denied'), headers)).toThrow();
    expect(() => new Webhook(SECRET).verify(BODY, { ...headers, 'webhook-id': 'evt_2' })).toThrow();
  });

  it('is made at send time: a receiver refuses one older than its tolerance', () => {
    const old = signedHeaders(new Webhook(SECRET), 'evt_1', new Date(Date.now() - 10 * 60_000), BODY);
    expect(() => new Webhook(SECRET).verify(BODY, old)).toThrow();
  });
});

describe('a delivery', () => {
  it('is accepted on 2xx and reported with its status otherwise; an unreachable receiver is an error code', async () => {
    const receiver = await startReceiver(SECRET);
    const sender = createWebhookSender({ url: receiver.url, secret: SECRET, timeoutMs: 1_000, now: Date.now });
    try {
      expect(await sender.deliver('evt_1', BODY)).toEqual({ ok: true });
      expect(receiver.accepted.map((d) => d.id)).toEqual(['evt_1']);
      receiver.failNext(1);
      expect(await sender.deliver('evt_2', BODY)).toEqual({ ok: false, status: 500, error: 'HTTP 500' });
    } finally {
      await sender.close();
      await receiver.close();
    }
    const gone = createWebhookSender({ url: receiver.url, secret: SECRET, timeoutMs: 1_000, now: Date.now });
    const result = await gone.deliver('evt_3', BODY);
    await gone.close();
    expect(result).toEqual({ ok: false, status: null, error: 'ECONNREFUSED' });
  });
});
