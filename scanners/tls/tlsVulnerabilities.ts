/**
 * Known TLS weaknesses, each tested by doing what an attacker's first step does:
 *
 * - Heartbleed (CVE-2014-0160): a real heartbeat request whose payload_length claims
 *   its 16 padding bytes; a correct server drops it (RFC 6520 leaves no room for the
 *   padding), a vulnerable one answers. The claimed length never exceeds our own
 *   record, so a vulnerable server only echoes our bytes back; any heartbeat answer
 *   is "vulnerable" and its bytes are not kept.
 * - Compression (CRIME, CVE-2012-4929): a hello offering DEFLATE.
 * - TLS_FALLBACK_SCSV (RFC 7507): a hello below the best version with the SCSV must
 *   be refused with inappropriate_fallback.
 * - Client-initiated renegotiation: real renegotiations through node:tls, five in a row
 *   (a server that allows a few and then refuses rate-limits them: 'limited').
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { TLS_FALLBACK_SCSV } from './cipherSuites.js';
import { ConnectionFailure, HandshakeBudgetError } from './tlsConnection.js';
import { readAnswer } from './tlsExchange.js';
import { legacyHello, probe, type ProbeContext } from './tlsHellos.js';
import { scanRecords } from './tlsMessages.parser.js';
import {
  ALERT_INAPPROPRIATE_FALLBACK,
  buildAlert,
  buildHeartbeatProbe,
  ContentType,
  Extension,
  protocolLabel,
  SSL3,
  TLS10,
  TLS11,
  TLS12,
} from './tlsWire.js';
import { ScanAbortedError } from '../shared/errors.js';

export type HeartbleedStatus = 'vulnerable' | 'not_vulnerable' | 'not_applicable' | 'error';

export interface HeartbleedResult {
  readonly status: HeartbleedStatus;
  /** The server echoed the heartbeat extension (heartbeats enabled). */
  readonly heartbeatExtension: boolean | null;
  /** Length of the heartbeat answer's payload (vulnerable servers only); the bytes are not kept. */
  readonly answerLength?: number;
  readonly detail?: string;
  /** What the same handshake's ServerHello said (null: no ServerHello). */
  readonly renegotiationInfo: boolean | null;
  readonly extendedMasterSecret: boolean | null;
}

/** Heartbleed on one TLS 1.0-1.2 (or SSLv3) version, with suites the server accepts there. */
export async function testHeartbleed(
  context: ProbeContext,
  version: number,
  suites: readonly number[],
): Promise<HeartbleedResult> {
  const hello = legacyHello(context, version, suites, version === SSL3 ? {} : { heartbeat: true });
  try {
    const result = await context.connector.converse(async (conversation): Promise<HeartbleedResult> => {
      conversation.send(hello.bytes);
      const answer = await readAnswer(conversation, 'flight');
      if (answer.kind !== 'server_hello' || !answer.complete) {
        return {
          status: 'error',
          heartbeatExtension: null,
          detail: `no ServerHelloDone (${answer.kind})`,
          renegotiationInfo: null,
          extendedMasterSecret: null,
        };
      }
      const seen = {
        renegotiationInfo: answer.hello.extensions.has(Extension.renegotiationInfo),
        extendedMasterSecret: answer.hello.extensions.has(Extension.extendedMasterSecret),
      };
      const heartbeat = answer.hello.extensions.has(Extension.heartbeat);
      if (!heartbeat) return { status: 'not_vulnerable', heartbeatExtension: false, ...seen };
      const already = conversation.received().length;
      // The probe, then close_notify: a vulnerable server answers the probe before it handles the alert.
      conversation.send(Buffer.concat([buildHeartbeatProbe(version), buildAlert(version, 1, 0)]));
      const heartbeatAnswer = (data: Buffer): number | null => {
        const scan = scanRecords(data.subarray(already));
        if (scan.kind !== 'tls') return null;
        const record = scan.records.find((r) => r.type === ContentType.heartbeat);
        return record ? record.fragment.length : null;
      };
      await conversation.until((data) => heartbeatAnswer(data) !== null);
      const length = heartbeatAnswer(conversation.received());
      if (length !== null) return { status: 'vulnerable', heartbeatExtension: true, answerLength: length, ...seen };
      return { status: 'not_vulnerable', heartbeatExtension: true, ...seen };
    });
    context.tick();
    return result;
  } catch (error) {
    if (error instanceof ScanAbortedError) throw error;
    if (error instanceof ConnectionFailure || error instanceof HandshakeBudgetError) {
      context.note(`Heartbleed (${protocolLabel(version)}): ${error.message}`);
      return {
        status: 'error',
        heartbeatExtension: null,
        detail: error.message,
        renegotiationInfo: null,
        extendedMasterSecret: null,
      };
    }
    throw error;
  }
}

export type CcsInjectionStatus = 'vulnerable' | 'not_vulnerable' | 'error';

/**
 * CCS injection (CVE-2014-0224): after the server's first flight, two early
 * ChangeCipherSpec records. A patched server refuses the first (unexpected_message)
 * or stays silent; a vulnerable OpenSSL accepts it, switches to keys derived from an
 * empty master secret, and fails to decrypt the second (decryption_failed or
 * bad_record_mac) — testssl.sh's method.
 */
export async function testCcsInjection(
  context: ProbeContext,
  version: number,
  suites: readonly number[],
): Promise<{ status: CcsInjectionStatus; detail: string }> {
  const hello = legacyHello(context, version, suites);
  try {
    const result = await context.connector.converse(async (conversation) => {
      conversation.send(hello.bytes);
      const answer = await readAnswer(conversation, 'flight');
      if (answer.kind !== 'server_hello' || !answer.complete) {
        return { status: 'error' as const, detail: `no ServerHelloDone (${answer.kind})` };
      }
      const already = conversation.received().length;
      const ccs = Buffer.from([ContentType.changeCipherSpec, version >> 8, version & 0xff, 0, 1, 1]);
      conversation.send(Buffer.concat([ccs, ccs]));
      const alertAfter = (data: Buffer): number | null => {
        const scan = scanRecords(data.subarray(already));
        if (scan.kind !== 'tls') return null;
        const alert = scan.records.find((r) => r.type === ContentType.alert && r.fragment.length >= 2);
        return alert ? alert.fragment[1]! : null;
      };
      await conversation.until((data) => alertAfter(data) !== null);
      const alert = alertAfter(conversation.received());
      if (alert === null) return { status: 'not_vulnerable' as const, detail: 'no alert: the early CCS was not used' };
      if (alert === 10 || alert === 40) {
        return { status: 'not_vulnerable' as const, detail: `alert ${alert} to the early ChangeCipherSpec` };
      }
      return {
        status: 'vulnerable' as const,
        detail: `alert ${alert} (${alert === 21 ? 'decryption_failed' : alert === 20 ? 'bad_record_mac' : 'unexpected'}): the early ChangeCipherSpec was accepted`,
      };
    });
    context.tick();
    return result;
  } catch (error) {
    if (error instanceof ScanAbortedError) throw error;
    if (error instanceof ConnectionFailure || error instanceof HandshakeBudgetError) {
      return { status: 'error', detail: error.message };
    }
    throw error;
  }
}

export type CompressionStatus = 'supported' | 'not_supported' | 'error';

/** Whether the server accepts DEFLATE compression (CRIME). */
export async function testCompression(
  context: ProbeContext,
  version: number,
  suites: readonly number[],
): Promise<CompressionStatus> {
  const outcome = await probe(
    context,
    legacyHello(context, version, suites, { compressionMethods: [1, 0] }).bytes,
    'compression',
    'server_hello',
  );
  if (outcome.kind === 'failed') return 'error';
  if (outcome.kind !== 'server_hello') return 'error';
  return outcome.hello.compressionMethod === 1 ? 'supported' : 'not_supported';
}

export type FallbackStatus = 'supported' | 'not_supported' | 'error';

/** A hello at `version` (below the best the server speaks) with TLS_FALLBACK_SCSV must be refused. */
export async function testFallbackScsv(
  context: ProbeContext,
  version: number,
  suites: readonly number[],
): Promise<{ status: FallbackStatus; detail: string }> {
  const outcome = await probe(
    context,
    legacyHello(context, version, [...suites, TLS_FALLBACK_SCSV]).bytes,
    'TLS_FALLBACK_SCSV',
    'server_hello',
  );
  switch (outcome.kind) {
    case 'alert':
      return outcome.alert.description === ALERT_INAPPROPRIATE_FALLBACK
        ? { status: 'supported', detail: `${protocolLabel(version)} with the SCSV: inappropriate_fallback` }
        : { status: 'error', detail: `${protocolLabel(version)} with the SCSV: alert ${outcome.alert.description}` };
    case 'server_hello':
      return {
        status: 'not_supported',
        detail: `${protocolLabel(version)} with the SCSV: the server went on (ServerHello ${protocolLabel(outcome.hello.version)})`,
      };
    default:
      return { status: 'error', detail: `${protocolLabel(version)} with the SCSV: ${outcome.kind}` };
  }
}

export type RenegotiationStatus = 'allowed' | 'limited' | 'refused' | 'error';

/** Renegotiations tried on one connection before "allowed" (a limit below this is a rate limit). */
export const RENEGOTIATIONS = 5;

const NODE_VERSIONS: Readonly<Record<number, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2'>> = {
  [TLS10]: 'TLSv1',
  [TLS11]: 'TLSv1.1',
  [TLS12]: 'TLSv1.2',
};

/**
 * Client-initiated renegotiation through OpenSSL (node:tls): a full handshake at
 * `version`, then a renegotiation. Servers that allow it let any client make them do
 * expensive handshakes on one connection (DoS). Needs a suite OpenSSL still has.
 */
export async function testClientRenegotiation(
  context: ProbeContext,
  version: number,
): Promise<{ status: RenegotiationStatus; detail: string }> {
  const nodeVersion = NODE_VERSIONS[version];
  if (!nodeVersion) return { status: 'error', detail: `renegotiation is not tested over ${protocolLabel(version)}` };
  const { connector } = context;
  try {
    const result = await connector.withSlot(async (track) => {
      return new Promise<{ status: RenegotiationStatus; detail: string }>((resolve) => {
        let settled = false;
        let done = 0; // renegotiations completed
        let connected = false; // the first handshake completed
        let socket: TLSSocket | undefined;
        const finish = (value: { status: RenegotiationStatus; detail: string }) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          connector.signal.removeEventListener('abort', onAbort);
          if (!socket || socket.closed) return resolve(value);
          socket.once('close', () => resolve(value));
          socket.destroy();
        };
        const timer = setTimeout(
          () =>
            finish(
              done > 0
                ? { status: 'limited', detail: `${done} renegotiation(s) completed, then no answer in time` }
                : { status: 'error', detail: 'no renegotiation answer in time' },
            ),
          connector.limits.timeoutMs * 2,
        );
        const onAbort = () => finish({ status: 'error', detail: 'aborted' });
        connector.signal.addEventListener('abort', onAbort, { once: true });
        socket = tlsConnect({
          host: connector.address,
          port: connector.port,
          ...(context.serverName ? { servername: context.serverName } : {}),
          rejectUnauthorized: false,
          minVersion: nodeVersion,
          maxVersion: nodeVersion,
          ciphers: 'ALL:COMPLEMENTOFALL:@SECLEVEL=0',
        });
        track(socket);
        socket.resume();
        socket.on('error', (error) =>
          finish(
            done > 0
              ? { status: 'limited', detail: `${done} renegotiation(s) completed, then: ${error.message}` }
              : connected
                ? { status: 'refused', detail: `renegotiation refused: ${error.message.trim()}` }
                : { status: 'error', detail: `handshake failed: ${error.message.trim()}` },
          ),
        );
        socket.on('close', () =>
          finish(
            done > 0
              ? {
                  status: 'limited',
                  detail: `${done} renegotiation(s) completed, then the server closed the connection`,
                }
              : connected
                ? { status: 'refused', detail: 'the server closed the connection on renegotiation' }
                : { status: 'error', detail: 'the server closed the connection' },
          ),
        );
        // Several in a row: a server that rate-limits renegotiations (Node allows 3 per 10 minutes) is no DoS lever.
        const renegotiateAgain = () => {
          const started = socket!.renegotiate({ rejectUnauthorized: false }, (error) => {
            if (error && done === 0)
              return finish({ status: 'refused', detail: `renegotiation refused: ${error.message}` });
            if (error) {
              return finish({
                status: 'limited',
                detail: `${done} renegotiation(s) completed, then refused: ${error.message}`,
              });
            }
            done++;
            if (done >= RENEGOTIATIONS) {
              return finish({
                status: 'allowed',
                detail: `${done} client-initiated renegotiations in a row completed`,
              });
            }
            renegotiateAgain();
          });
          if (!started) finish({ status: 'error', detail: 'renegotiation could not be started' });
        };
        socket.once('secureConnect', () => {
          connected = true;
          renegotiateAgain();
        });
      });
    });
    context.tick();
    if (connector.signal.aborted) throw new ScanAbortedError('TLS scan aborted');
    return result;
  } catch (error) {
    if (error instanceof ScanAbortedError) throw error;
    if (error instanceof ConnectionFailure || error instanceof HandshakeBudgetError) {
      return { status: 'error', detail: error.message };
    }
    throw error;
  }
}
