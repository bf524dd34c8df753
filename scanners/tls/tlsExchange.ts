/**
 * One ClientHello and the server's answer, read as far as a probe needs: the
 * ServerHello and, for TLS 1.0-1.2, the rest of the server's first flight
 * (Certificate, CertificateStatus, ServerKeyExchange, ServerHelloDone), or an alert,
 * or an SSLv2 SERVER-HELLO. What came back is classified so callers need not look at
 * bytes: `server_hello`, `alert`, `sslv2`, `closed`, `timeout`, `not_tls`, `malformed`.
 */
import type { Conversation, Connector } from './tlsConnection.js';
import {
  alertsOf,
  handshakeMessages,
  parseServerHello,
  parseSslv2ServerHello,
  scanRecords,
  TlsParseError,
  type Alert,
  type HandshakeMessage,
  type ServerHello,
  type Sslv2ServerHello,
  type TlsRecord,
} from './tlsMessages.parser.js';
import { ContentType, HandshakeType, TLS13 } from './tlsWire.js';

export type HelloOutcome =
  | {
      readonly kind: 'server_hello';
      readonly hello: ServerHello;
      /** Plaintext handshake messages of the first flight (TLS 1.3: the ServerHello alone). */
      readonly messages: readonly HandshakeMessage[];
      readonly records: readonly TlsRecord[];
      /** The flight ended with ServerHelloDone (TLS 1.0-1.2), or it is TLS 1.3 / a HelloRetryRequest. */
      readonly complete: boolean;
    }
  | { readonly kind: 'alert'; readonly alert: Alert }
  | { readonly kind: 'sslv2'; readonly hello: Sslv2ServerHello }
  | { readonly kind: 'sslv2_error'; readonly code: number }
  | { readonly kind: 'closed'; readonly reset: boolean; readonly partial: boolean }
  | { readonly kind: 'timeout'; readonly partial: boolean }
  | { readonly kind: 'not_tls'; readonly preview: string }
  | { readonly kind: 'malformed'; readonly reason: string };

export type ReadUntil = 'server_hello' | 'flight';

/** Whether what arrived answers the hello (so we can stop reading). */
export function answerComplete(data: Buffer, until: ReadUntil): boolean {
  const scan = scanRecords(data);
  switch (scan.kind) {
    case 'empty':
      return false;
    case 'not_tls':
      return true;
    case 'sslv2':
      return scan.message !== null;
    case 'tls': {
      if (scan.records.some((r) => r.type === ContentType.alert)) return true;
      if (scan.records.some((r) => r.type !== ContentType.handshake)) return true;
      let messages: HandshakeMessage[];
      try {
        messages = handshakeMessages(scan.records);
      } catch {
        return true;
      }
      const first = messages[0];
      if (!first) return false;
      if (first.type !== HandshakeType.serverHello) return true;
      if (until === 'server_hello') return true;
      try {
        const hello = parseServerHello(first.body);
        if (hello.helloRetryRequest || hello.version === TLS13) return true;
      } catch {
        return true;
      }
      return messages.some((m) => m.type === HandshakeType.serverHelloDone);
    }
  }
}

/** Reads the answer to a hello already sent on `conversation`. */
export async function readAnswer(conversation: Conversation, until: ReadUntil): Promise<HelloOutcome> {
  const wait = await conversation.until((data) => answerComplete(data, until));
  const data = conversation.received();
  return classifyAnswer(data, wait === 'timeout' ? 'timeout' : wait === 'closed' ? 'closed' : 'ready', {
    reset: conversation.reset,
  });
}

/** What an answer (complete or cut short) says. Pure. */
export function classifyAnswer(
  data: Buffer,
  ended: 'ready' | 'closed' | 'timeout',
  extra: { reset?: boolean } = {},
): HelloOutcome {
  const scan = scanRecords(data);
  const cutShort = (partial: boolean): HelloOutcome =>
    ended === 'timeout' ? { kind: 'timeout', partial } : { kind: 'closed', reset: extra.reset ?? false, partial };
  try {
    switch (scan.kind) {
      case 'empty':
        return cutShort(false);
      case 'not_tls':
        return { kind: 'not_tls', preview: scan.preview };
      case 'sslv2': {
        if (!scan.message) return cutShort(true);
        if (scan.message[0] === 0) {
          return { kind: 'sslv2_error', code: scan.message.length >= 3 ? scan.message.readUInt16BE(1) : 0 };
        }
        return { kind: 'sslv2', hello: parseSslv2ServerHello(scan.message) };
      }
      case 'tls': {
        const messages = handshakeMessages(scan.records);
        const first = messages[0];
        if (first && first.type === HandshakeType.serverHello) {
          const hello = parseServerHello(first.body);
          const complete =
            hello.helloRetryRequest ||
            hello.version === TLS13 ||
            messages.some((m) => m.type === HandshakeType.serverHelloDone);
          return { kind: 'server_hello', hello, messages, records: scan.records, complete };
        }
        const alert = alertsOf(scan.records)[0];
        if (alert) return { kind: 'alert', alert };
        if (first)
          return { kind: 'malformed', reason: `first handshake message is type ${first.type}, not ServerHello` };
        if (scan.records.some((r) => r.type !== ContentType.handshake)) {
          return { kind: 'malformed', reason: `unexpected record type ${scan.records[0]?.type} before ServerHello` };
        }
        return cutShort(scan.records.length > 0 || scan.pending > 0);
      }
    }
  } catch (error) {
    if (error instanceof TlsParseError) return { kind: 'malformed', reason: error.message };
    throw error;
  }
}

/** Connects, sends `hello`, reads the answer, closes. */
export function exchangeHello(connector: Connector, hello: Buffer, until: ReadUntil = 'flight'): Promise<HelloOutcome> {
  return connector.converse(async (conversation) => {
    conversation.send(hello);
    return readAnswer(conversation, until);
  });
}
