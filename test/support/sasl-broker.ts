/**
 * Just enough of a Kafka broker to authenticate a client: ApiVersions, SaslHandshake and
 * SaslAuthenticate (PLAIN and SCRAM-SHA-256/512, RFC 5802 server side), over plain TCP
 * (SASL_PLAINTEXT) or TLS (SASL_SSL). librdkafka 2.0.2's mock cluster has no SASL (its
 * ApiVersions lists neither SaslHandshake nor SaslAuthenticate; kafkajs fails with "The Kafka
 * server does not support the requested API version"), so SASL is tested against this.
 *
 * It checks the credentials the client proves, records each attempt, and hangs up on the first
 * request after authentication (it serves no Metadata): a client gets as far as "authenticated"
 * and then a connection error. Loopback only.
 *
 *   const b = await startSaslBroker({ username: 'u', password: 'p' });
 *   ... client at 127.0.0.1:b.port ...
 *   b.attempts   // [{ mechanism: 'SCRAM-SHA-256', username: 'u', ok: true }, ...]
 *   await b.close();
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';

export interface SaslAttempt {
  mechanism: string;
  username: string;
  ok: boolean;
  /** Whether the connection was TLS. */
  tls: boolean;
}

export interface SaslBroker {
  port: number;
  attempts: SaslAttempt[];
  close(): Promise<void>;
}

export interface SaslBrokerOptions {
  username: string;
  password: string;
  /** TLS server options (key, cert, ...): SASL_SSL; absent: SASL_PLAINTEXT. */
  tls?: tls.TlsOptions;
}

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const SASL_AUTHENTICATION_FAILED = 58;
const UNSUPPORTED_SASL_MECHANISM = 33;
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
const SCRAM_ITERATIONS = 4096;

/** Builds a response body field by field (Kafka's non-flexible encoding). */
class Out {
  private parts: Buffer[] = [];
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  int64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const b = Buffer.from(s, 'utf8');
    this.int16(b.length);
    this.parts.push(b);
    return this;
  }
  bytes(b: Buffer): this {
    this.int32(b.length);
    this.parts.push(b);
    return this;
  }
  frame(correlationId: number): Buffer {
    const body = Buffer.concat(this.parts);
    const head = Buffer.alloc(8);
    head.writeInt32BE(body.length + 4, 0);
    head.writeInt32BE(correlationId, 4);
    return Buffer.concat([head, body]);
  }
}

interface Scram {
  hash: 'sha256' | 'sha512';
  username: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  salt: Buffer;
}

const scramAttr = (msg: string): Map<string, string> => new Map(msg.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)]));

export function startSaslBroker(o: SaslBrokerOptions): Promise<SaslBroker> {
  const attempts: SaslAttempt[] = [];
  const sockets = new Set<net.Socket>();

  const onConnection = (socket: net.Socket, isTls: boolean): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    let mechanism = '';
    let scram: Scram | undefined;
    let authenticated = false;

    const record = (username: string, ok: boolean): void => {
      attempts.push({ mechanism, username, ok, tls: isTls });
    };
    const authReply = (correlationId: number, version: number, error: number, message: string | null, bytes: Buffer): void => {
      const out = new Out().int16(error).string(message).bytes(bytes);
      if (version >= 1) out.int64(0n);
      socket.write(out.frame(correlationId));
    };

    const handle = (apiKey: number, version: number, correlationId: number, body: Buffer): void => {
      if (authenticated) {
        socket.destroy(); // no Metadata here: the client has shown what it had to
        return;
      }
      if (apiKey === API_VERSIONS) {
        const apis: Array<[number, number, number]> = [[API_VERSIONS, 0, 2], [SASL_HANDSHAKE, 0, 1], [SASL_AUTHENTICATE, 0, 1]];
        const out = new Out().int16(0).int32(apis.length);
        for (const [k, min, max] of apis) out.int16(k).int16(min).int16(max);
        if (version >= 1) out.int32(0);
        socket.write(out.frame(correlationId));
      } else if (apiKey === SASL_HANDSHAKE) {
        mechanism = body.toString('utf8', 2, 2 + body.readInt16BE(0));
        const out = new Out().int16(MECHANISMS.includes(mechanism) ? 0 : UNSUPPORTED_SASL_MECHANISM).int32(MECHANISMS.length);
        for (const m of MECHANISMS) out.string(m);
        socket.write(out.frame(correlationId));
      } else if (apiKey === SASL_AUTHENTICATE) {
        const auth = body.subarray(4, 4 + body.readInt32BE(0));
        if (mechanism === 'PLAIN') {
          const [, user = '', pass = ''] = auth.toString('utf8').split('\0');
          const ok = user === o.username && pass === o.password;
          record(user, ok);
          authenticated = ok;
          authReply(correlationId, version, ok ? 0 : SASL_AUTHENTICATION_FAILED, ok ? null : 'Authentication failed: Invalid username or password', Buffer.alloc(0));
        } else if (!scram) {
          // client-first: "n,,n=USER,r=CNONCE"
          const clientFirstBare = auth.toString('utf8').replace(/^n,[^,]*,/, '');
          const a = scramAttr(clientFirstBare);
          const nonce = `${a.get('r') ?? ''}${randomBytes(12).toString('base64')}`;
          const salt = randomBytes(16);
          const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${SCRAM_ITERATIONS}`;
          scram = { hash: mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256', username: a.get('n') ?? '', clientFirstBare, serverFirst, nonce, salt };
          authReply(correlationId, version, 0, null, Buffer.from(serverFirst));
        } else {
          // client-final: "c=biws,r=NONCE,p=PROOF"; verify the proof against our password.
          const s = scram;
          const final = auth.toString('utf8');
          const a = scramAttr(final);
          const withoutProof = final.slice(0, final.lastIndexOf(',p='));
          const authMessage = `${s.clientFirstBare},${s.serverFirst},${withoutProof}`;
          const keyLen = s.hash === 'sha512' ? 64 : 32;
          const salted = pbkdf2Sync(o.password, s.salt, SCRAM_ITERATIONS, keyLen, s.hash);
          const clientKey = createHmac(s.hash, salted).update('Client Key').digest();
          const storedKey = createHash(s.hash).update(clientKey).digest();
          const signature = createHmac(s.hash, storedKey).update(authMessage).digest();
          const proof = Buffer.from(a.get('p') ?? '', 'base64');
          const expected = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
          const ok = a.get('r') === s.nonce && s.username === o.username && proof.length === expected.length && timingSafeEqual(proof, expected);
          record(s.username, ok);
          scram = undefined;
          authenticated = ok;
          if (!ok) {
            authReply(correlationId, version, SASL_AUTHENTICATION_FAILED, 'Authentication failed during authentication due to invalid credentials with SASL mechanism ' + mechanism, Buffer.alloc(0));
            return;
          }
          const serverKey = createHmac(s.hash, salted).update('Server Key').digest();
          authReply(correlationId, version, 0, null, Buffer.from(`v=${createHmac(s.hash, serverKey).update(authMessage).digest('base64')}`));
        }
      } else {
        socket.destroy();
      }
    };

    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + frame.length);
        const apiKey = frame.readInt16BE(0);
        const version = frame.readInt16BE(2);
        const correlationId = frame.readInt32BE(4);
        const clientIdLen = frame.readInt16BE(8);
        handle(apiKey, version, correlationId, frame.subarray(10 + Math.max(0, clientIdLen)));
        if (socket.destroyed) return;
      }
    });
  };

  const server: net.Server = o.tls
    ? tls.createServer(o.tls).on('secureConnection', (s: tls.TLSSocket) => onConnection(s, true))
    : net.createServer((s) => onConnection(s, false));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        attempts,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}
