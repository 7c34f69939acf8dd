// A local stand-in for Slack's Socket Mode endpoint: the WebSocket that `apps.connections.open` points to.
// It says `hello`, sends envelopes ({envelope_id, type, payload, accepts_response_payload}) and records
// each acknowledgement ({envelope_id, payload}) with how long it took, as Slack's docs describe
// (docs.slack.dev/apis/events-api/using-socket-mode). A minimal RFC 6455 server: text frames, ping/pong
// and close, which is all the Socket Mode client (@slack/socket-mode, on undici's WebSocket) uses.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface Acked {
  envelopeId: string;
  type: EnvelopeType;
  /** What the app answered (a command's ephemeral reply, a view's response_action…), `{}` when nothing. */
  payload: unknown;
  ms: number;
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Slack retries an envelope not acknowledged within 3 seconds. */
export const ACK_DEADLINE_MS = 3_000;

export class FakeSocketMode {
  url = '';
  readonly acks: Acked[] = [];
  /** Envelopes acknowledged late or never (ids), for assertions. */
  readonly late: string[] = [];
  connections = 0;
  private server: http.Server | null = null;
  private socket: Duplex | null = null;
  private readonly pending = new Map<string, { type: EnvelopeType; sentAt: number; done: (a: Acked) => void }>();
  private readonly connectedWaiters: (() => void)[] = [];
  private pinger: NodeJS.Timeout | null = null;

  async start(): Promise<string> {
    const server = http.createServer((_req, res) => {
      res.writeHead(426);
      res.end();
    });
    server.on('upgrade', (req, socket) => this.upgrade(req, socket));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** The URL `apps.connections.open` answers with (a fresh ticket each time, as Slack's). */
  connectionUrl(): string {
    return `${this.url}/link/?ticket=${randomUUID()}&app_id=A0BPDELETE`;
  }

  /** Resolve once a client is connected and has been sent `hello`. */
  connected(timeoutMs = 5_000): Promise<void> {
    if (this.socket) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no Socket Mode connection')), timeoutMs);
      this.connectedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Send one envelope; resolves with the acknowledgement. Rejects if none comes within the deadline
   * (Slack would then send it again), and records the envelope as late.
   */
  send(type: EnvelopeType, payload: unknown, deadlineMs = ACK_DEADLINE_MS): Promise<Acked> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new Error('no Socket Mode connection'));
    const envelopeId = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        this.late.push(envelopeId);
        reject(new Error(`envelope ${envelopeId} (${type}) was not acknowledged within ${deadlineMs} ms`));
      }, deadlineMs);
      this.pending.set(envelopeId, {
        type,
        sentAt: performance.now(),
        done: (acked) => {
          clearTimeout(timer);
          resolve(acked);
        },
      });
      writeFrame(
        socket,
        0x1,
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          retry_attempt: 0,
          retry_reason: '',
        }),
      );
    });
  }

  /** Cut the connection without a close frame, as a network failure would; the client is left to reconnect. */
  drop(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  async stop(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    this.socket?.destroy();
    this.socket = null;
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex): void {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || !req.url?.startsWith('/link/')) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}${WS_GUID}`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    this.socket?.destroy();
    this.socket = socket;
    this.connections += 1;
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const frame = readFrame(buffered);
        if (!frame) break;
        buffered = buffered.subarray(frame.length);
        this.onFrame(socket, frame.opcode, frame.payload);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = null;
    });
    writeFrame(
      socket,
      0x1,
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'fake-socket-mode', approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0BPDELETE' },
      }),
    );
    // Slack pings the client now and then; the client reconnects if it hears nothing for 30 s.
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = setInterval(() => {
      if (this.socket) writeFrame(this.socket, 0x9, 'ping');
    }, 5_000);
    this.pinger.unref();
    for (const wake of this.connectedWaiters.splice(0)) wake();
  }

  private onFrame(socket: Duplex, opcode: number, payload: Buffer): void {
    if (opcode === 0x9) {
      writeFrame(socket, 0xa, payload);
      return;
    }
    if (opcode === 0x8) {
      writeFrame(socket, 0x8, payload);
      socket.end();
      return;
    }
    if (opcode !== 0x1) return;
    let message: { envelope_id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(payload.toString('utf8')) as typeof message;
    } catch {
      return;
    }
    const id = String(message.envelope_id ?? '');
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    const acked: Acked = {
      envelopeId: id,
      type: waiting.type,
      payload: message.payload ?? {},
      ms: performance.now() - waiting.sentAt,
    };
    this.acks.push(acked);
    waiting.done(acked);
  }
}

/** One complete frame at the start of `data` (client frames are masked), or null if more bytes are needed. */
function readFrame(data: Buffer): { opcode: number; payload: Buffer; length: number } | null {
  if (data.length < 2) return null;
  const opcode = (data[0] ?? 0) & 0x0f;
  const masked = ((data[1] ?? 0) & 0x80) !== 0;
  let length = (data[1] ?? 0) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return null;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return null;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (data.length < offset + length) return null;
  const payload = Buffer.from(data.subarray(offset, offset + length));
  if (masked) {
    for (let i = 0; i < payload.length; i++) {
      payload[i] = (payload[i] ?? 0) ^ (data[maskOffset + (i % 4)] ?? 0);
    }
  }
  return { opcode, payload, length: offset + length };
}

/** A single unmasked frame, as a server sends them. */
function writeFrame(socket: Duplex, opcode: number, body: string | Buffer): void {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let header: Buffer;
  if (payload.length < 126) {
    header = Buffer.from([0x80 | opcode, payload.length]);
  } else if (payload.length < 65_536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  if (!socket.destroyed) socket.write(Buffer.concat([header, payload]));
}
