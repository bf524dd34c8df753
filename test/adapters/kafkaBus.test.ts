import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBus, type KafkaBusLogger, type KafkaBusOptions } from '../../adapters/kafkaBus.js';
import { InfrastructureError, type Bus, type BusMessage } from '../../adapters/ports.js';
import { distributedRequired, requireServers } from '../support/distributedServers.js';
import { deferred, sleep, waitFor, within } from '../support/waitFor.js';
import { busContract } from './bus.contract.js';

const brokersEnv = requireServers('kafka');
const brokers = brokersEnv?.split(',').map((broker) => broker.trim()) ?? [];
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const serversScript = fileURLToPath(new URL('../../scripts/servers/servers.sh', import.meta.url));
const unique = (prefix: string): string => `secably-test-${prefix}-${randomUUID()}`;

interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly obj: Record<string, unknown>;
}

/** Keeps what the bus logs; `KAFKA_BUS_TEST_LOG=1` echoes warnings and errors. */
function recordingLogger(): KafkaBusLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const record =
    (level: LogLine['level']) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, msg: msg ?? '', obj: obj as Record<string, unknown> });
      if (process.env.KAFKA_BUS_TEST_LOG === '1' && level !== 'info') console.error(level, msg, obj);
    };
  return { lines, info: record('info'), warn: record('warn'), error: record('error') };
}

/** Short timeouts so that joins, leaves and redeliveries happen within a test's patience. */
const fast = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 20_000,
  maxWaitTimeMs: 250,
  retryDelayMs: 20,
  maxRetryDelayMs: 500,
} satisfies Partial<KafkaBusOptions>;

describe('kafkaBus without a broker', () => {
  it('reports an unreachable broker as an InfrastructureError', async () => {
    const attempt = kafkaBus({
      brokers: ['127.0.0.1:1'],
      clientId: 'secably-test',
      logger: recordingLogger(),
      retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
    });
    await expect(attempt).rejects.toBeInstanceOf(InfrastructureError);
  });
});

describe.skipIf(brokersEnv === undefined)('kafkaBus against a real Kafka broker', () => {
  let admin: kafkajs.Admin;
  /** Every topic a test touched, deleted at the end. */
  const topics = new Set<string>();

  beforeAll(async () => {
    admin = new kafkajs.Kafka({ clientId: 'secably-test-admin', brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    if (topics.size > 0) await admin.deleteTopics({ topics: [...topics] }).catch(() => undefined);
    await admin?.disconnect();
  });

  /** The bus, recording the topics it is used with (for the clean-up). */
  function recorded(bus: Bus): Bus {
    return {
      publish: (topic, messages) => (topics.add(topic), bus.publish(topic, messages)),
      subscribe: (topic, group, handler) => (topics.add(topic), bus.subscribe(topic, group, handler)),
      close: () => bus.close(),
    };
  }

  const newBus = async (options: Partial<KafkaBusOptions> = {}): Promise<Bus> =>
    recorded(await kafkaBus({ brokers, clientId: 'secably-test', logger: recordingLogger(), ...fast, ...options }));

  // 3 partitions, not the default 6: the contract's close() test publishes `scan-1` then
  // `scan-2` to one member and expects `scan-1` first. Kafka orders messages within a
  // partition only (a member reads its partitions in partition order); with 3 partitions
  // both keys hash (murmur2) to the same one, with 6 they do not. Every other contract
  // test holds for any partition count; the tests below use the default.
  busContract('kafkaBus', async () => ({ bus: await newBus({ partitions: 3 }) }));

  describe('kafkaBus', () => {
    const open: Bus[] = [];
    const track = (bus: Bus): Bus => (open.push(bus), bus);

    afterEach(async () => {
      await Promise.allSettled(open.splice(0).map((bus) => within(bus.close(), 15_000)));
    });

    it('starts a new group from the earliest message: nothing published before it subscribed is missed', async () => {
      const bus = track(await newBus());
      const topic = unique('topic');
      await bus.publish(topic, [
        { key: 'scan-1', value: { n: 1 } },
        { key: 'scan-2', value: { n: 2 } },
      ]);
      const seen: number[] = [];
      await bus.subscribe(topic, unique('group'), async (m) => void seen.push(m.value.n as number));
      await waitFor(() => expect(seen.sort()).toEqual([1, 2]), 10_000);
    });

    it('commits an offset only after its handler resolved: a consumer killed mid-handler leaves the message to the next member', async () => {
      const topic = unique('topic');
      const group = unique('group');
      // The member that dies runs in a child process, killed with SIGKILL while its handler runs.
      const child = spawnMember(topic, group);
      try {
        await child.line((line) => line === 'subscribed', 30_000);
        const bus = track(await newBus());
        await bus.publish(topic, [{ key: 'scan-1', value: { n: 1 } }]);
        await child.line((line) => line === 'handling 1', 15_000);
        child.kill();
        await child.exited;
        // A new member of the group gets the message once the dead one's session (6 s) has expired.
        const redelivered: BusMessage[] = [];
        await bus.subscribe(topic, group, async (m) => void redelivered.push(m));
        await waitFor(() => expect(redelivered).toEqual([{ key: 'scan-1', value: { n: 1 } }]), 30_000);
        // ... and once handled there, it is committed: a later member of the group gets nothing.
        await sleep(500);
        await bus.close();
        const again: BusMessage[] = [];
        const later = track(await newBus());
        await later.subscribe(topic, group, async (m) => void again.push(m));
        await later.publish(topic, [{ key: 'scan-2', value: { n: 2 } }]);
        await waitFor(() => expect(again).toEqual([{ key: 'scan-2', value: { n: 2 } }]), 15_000);
      } finally {
        child.kill();
      }
    }, 90_000);

    it('keeps a member alive through a handler much longer than its session timeout (no rebalance, no duplicate)', async () => {
      const logger = recordingLogger();
      // The broker's smallest session timeout (group.min.session.timeout.ms = 6 s); the handler takes 15 s.
      const slow = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 30_000, logger };
      const bus = track(await newBus(slow));
      const topic = unique('topic');
      const group = unique('group');
      const handled: string[] = [];
      const handler = (member: string) => async (m: BusMessage) => {
        handled.push(`${member}:${String(m.value.n)}`);
        if (m.value.n === 1) await sleep(15_000);
      };
      const joins = () => logger.lines.filter((l) => l.msg.includes('joined its group')).length;
      await bus.subscribe(topic, group, handler('a'));
      await bus.subscribe(topic, group, handler('b'));
      // a joined, then b; b's join made a rejoin (its event may come just after b's).
      await waitFor(() => expect(joins()).toBeGreaterThanOrEqual(3), 10_000);
      await sleep(500);
      const joinsBefore = joins();
      await bus.publish(topic, [{ key: 'scan-slow', value: { n: 1 } }]);
      await waitFor(() => expect(handled).toHaveLength(1), 10_000);
      await sleep(16_000);
      // The same member finished it; nobody else got it, and no member had to rejoin.
      expect(handled).toHaveLength(1);
      expect(joins()).toBe(joinsBefore);
      expect(logger.lines.filter((l) => /crashed|commit failed|heartbeat failed/.test(l.msg))).toEqual([]);
      // Its offset was committed: the next message of that key comes next, once.
      await bus.publish(topic, [{ key: 'scan-slow', value: { n: 2 } }]);
      await waitFor(() => expect(handled.map((h) => h.slice(2))).toEqual(['1', '2']), 10_000);
      await sleep(300);
      expect(handled).toHaveLength(2);
    }, 60_000);

    it('a member joining while another runs a long handler waits for it: the message is not taken away', async () => {
      // Session 6 s, handler 8 s: the rebalance the new member starts must wait for the
      // running handler (rebalanceTimeoutMs), with the busy member's session kept alive.
      const slow = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 30_000 };
      const bus = track(await newBus(slow));
      const topic = unique('topic');
      const group = unique('group');
      const handled: string[] = [];
      let finishedAt = 0;
      await bus.subscribe(topic, group, async (m) => {
        handled.push(`a:${String(m.value.n)}`);
        if (m.value.n === 1) {
          await sleep(8_000);
          finishedAt = Date.now();
        }
      });
      await bus.publish(topic, [{ key: 'scan-long', value: { n: 1 } }]);
      await waitFor(() => expect(handled).toEqual(['a:1']), 10_000);
      await bus.subscribe(topic, group, async (m) => void handled.push(`b:${String(m.value.n)}`));
      // The join completed only once the running handler had resolved (and committed).
      expect(finishedAt).toBeGreaterThan(0);
      await sleep(1_000);
      expect(handled).toEqual(['a:1']);
      // Then both members share the partitions.
      await bus.publish(
        topic,
        Array.from({ length: 30 }, (_, i) => ({ key: `scan-${i}`, value: { n: 100 + i } })),
      );
      await waitFor(() => expect(handled).toHaveLength(31), 10_000);
      expect(handled.filter((h) => h.startsWith('b:')).length).toBeGreaterThan(0);
      expect(handled.filter((h) => h.endsWith(':1'))).toEqual(['a:1']);
    }, 60_000);

    it('redelivers a failing message with growing backoff; other partitions go on meanwhile', async () => {
      const bus = track(await newBus({ partitions: 2 }));
      const topic = unique('topic');
      const attempts: number[] = [];
      const handled: string[] = [];
      let failing = true;
      await bus.subscribe(topic, unique('group'), async (m) => {
        if (m.key === 'poison' && m.value.n === 0) {
          attempts.push(Date.now());
          if (failing) throw new Error('not yet');
        }
        handled.push(`${m.key}:${String(m.value.n)}`);
      });
      await bus.publish(topic, [
        { key: 'poison', value: { n: 0 } },
        { key: 'poison', value: { n: 1 } },
        ...Array.from({ length: 10 }, (_, i) => ({ key: `other-${i}`, value: { n: i } })),
      ]);
      // Keys on the other partition are handled while the failing one is retried ...
      await waitFor(() => expect(handled.some((h) => h.startsWith('other-'))).toBe(true), 10_000);
      await waitFor(() => expect(attempts.length).toBeGreaterThanOrEqual(4), 10_000);
      // ... but nothing after it in its own partition, its key's next message included.
      expect(handled).not.toContain('poison:1');
      // The wait before redelivery k is at least 20 ms × 2^k (retryDelayMs 20, doubling).
      attempts.slice(1, 4).forEach((at, k) => expect(at - attempts[k]!).toBeGreaterThanOrEqual(20 * 2 ** k - 2));
      failing = false;
      await waitFor(() => expect(handled).toHaveLength(12), 10_000);
      expect(handled.filter((h) => h.startsWith('poison'))).toEqual(['poison:0', 'poison:1']);
    });

    it('skips (and logs) a record whose value is not a JSON object, without blocking its partition', async () => {
      const logger = recordingLogger();
      const bus = track(await newBus({ logger }));
      const topic = unique('topic');
      const seen: unknown[] = [];
      await bus.subscribe(topic, unique('group'), async (m) => void seen.push(m.value.n));
      const producer = new kafkajs.Kafka({
        clientId: 'secably-test-raw',
        brokers,
        logLevel: kafkajs.logLevel.NOTHING,
      }).producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        await producer.send({ topic, messages: [{ key: 'scan-1', value: 'not json' }] });
      } finally {
        await producer.disconnect();
      }
      await bus.publish(topic, [{ key: 'scan-1', value: { n: 1 } }]);
      await waitFor(() => expect(seen).toEqual([1]), 10_000);
      expect(logger.lines.some((l) => l.level === 'error' && l.msg.includes('not a JSON object'))).toBe(true);
    });

    it('translates failures into InfrastructureError and fails publish and subscribe after close', async () => {
      const bus = await newBus();
      await bus.close();
      await expect(bus.publish(unique('topic'), [{ key: 'k', value: {} }])).rejects.toBeInstanceOf(InfrastructureError);
      await expect(bus.subscribe(unique('topic'), unique('group'), async () => {})).rejects.toBeInstanceOf(
        InfrastructureError,
      );
      const open = track(await newBus());
      await expect(open.publish('not a valid topic name!', [{ key: 'k', value: {} }])).rejects.toBeInstanceOf(
        InfrastructureError,
      );
      // A value that is not JSON is the caller's mistake, reported as such (like the memory bus).
      await expect(open.publish(unique('topic'), [{ key: 'k', value: { big: 1n } }])).rejects.toThrow(TypeError);
    });

    // SLOW (~40 s): a broker restart. It runs on a private broker (its own data dir and
    // ports, started, restarted and stopped here with scripts/servers/servers.sh), so the
    // shared test broker, which other test files use at the same time, never goes down.
    describe('broker restart (slow, private broker)', () => {
      let serversEnv: NodeJS.ProcessEnv | undefined;
      let privateBrokers: string[] = [];
      let unavailable: string | undefined;

      beforeAll(async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'secably-kafka-restart-'));
        const [port, controllerPort] = await freePorts(2);
        serversEnv = {
          ...process.env,
          SECABLY_SERVERS_DIR: dataDir,
          SECABLY_KAFKA_PORT: String(port),
          SECABLY_KAFKA_CONTROLLER_PORT: String(controllerPort),
          SECABLY_KAFKA_HEAP: '256m',
        };
        try {
          await servers(['start', 'kafka'], serversEnv);
          privateBrokers = [`127.0.0.1:${port}`];
        } catch (error) {
          if (distributedRequired()) throw error;
          unavailable = String(error);
        }
      }, 180_000);

      afterAll(async () => {
        if (serversEnv === undefined) return;
        await servers(['stop', 'kafka'], serversEnv).catch(() => undefined);
        rmSync(serversEnv.SECABLY_SERVERS_DIR!, { recursive: true, force: true });
      }, 120_000);

      it('loses nothing that was published, queued or in flight while the broker restarts', async (context) => {
        if (unavailable !== undefined) {
          console.warn(`broker restart test skipped: no private broker (${unavailable})`);
          context.skip();
        }
        const bus = track(
          await newBus({ brokers: privateBrokers, publishTimeoutMs: 120_000, sessionTimeoutMs: 10_000 }),
        );
        const topic = unique('topic');
        const handled = new Map<number, number>();
        await bus.subscribe(topic, unique('group'), async (m) => {
          const n = m.value.n as number;
          handled.set(n, (handled.get(n) ?? 0) + 1);
          await sleep(20);
        });
        const batch = (from: number, count: number): BusMessage[] =>
          Array.from({ length: count }, (_, i) => ({ key: `scan-${(from + i) % 7}`, value: { n: from + i } }));
        await bus.publish(topic, batch(0, 200));
        // The restart comes while most of those are still queued (200 × 20 ms).
        await waitFor(() => expect(handled.size).toBeGreaterThanOrEqual(5), 10_000);
        const restarting = servers(['restart', 'kafka'], serversEnv!);
        await brokerDown(privateBrokers[0]!, 30_000);
        // Published while the broker is down: the call waits for it to come back.
        const duringRestart = bus.publish(topic, batch(200, 50));
        await restarting;
        await duringRestart;
        await bus.publish(topic, batch(250, 50));
        await waitFor(() => expect(handled.size).toBe(300), 120_000, 100);
        const duplicates = [...handled.values()].filter((count) => count > 1).length;
        console.info(`broker restart: 300 messages handled, ${duplicates} of them more than once (at-least-once)`);
      }, 240_000);
    });
  });
});

/** Runs `scripts/servers/servers.sh <args>` with `env`, bounded in time. */
function servers(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(
      'bash',
      [serversScript, ...args],
      { env, timeout: 150_000, killSignal: 'SIGKILL' },
      (error, _stdout, stderr) =>
        error
          ? reject(new Error(`servers.sh ${args.join(' ')} failed: ${error.message}\n${stderr.slice(-3000)}`))
          : resolve(),
    ),
  );
}

/** Ports nobody listens on right now. */
async function freePorts(count: number): Promise<number[]> {
  const listeners = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = listeners.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(listeners.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Resolves once `address` refuses connections (the broker went down). */
async function brokerDown(address: string, timeoutMs: number): Promise<void> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
  await waitFor(async () => !(await accepts()), timeoutMs, 50);
}

/**
 * A group member in its own process, whose handler prints `handling <n>` and
 * never returns: killing it is a crash in the middle of a message.
 */
function spawnMember(topic: string, group: string) {
  const code = `
    const { kafkaBus } = await import(${JSON.stringify(new URL('../../adapters/kafkaBus.ts', import.meta.url).href)});
    const bus = await kafkaBus({
      brokers: ${JSON.stringify(brokers)}, clientId: 'secably-test-doomed',
      logger: { info() {}, warn() {}, error() {} },
      sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, rebalanceTimeoutMs: 10000, maxWaitTimeMs: 250,
    });
    await bus.subscribe(${JSON.stringify(topic)}, ${JSON.stringify(group)}, async (m) => {
      console.log('handling ' + m.value.n);
      await new Promise(() => {});
    });
    console.log('subscribed');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.map((line) => line.trim()));
    for (const wake of waiters) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    exited,
    kill: () => void child.kill('SIGKILL'),
    async line(match: (line: string) => boolean, timeoutMs: number): Promise<void> {
      const found = deferred();
      const check = () => lines.some(match) && found.resolve();
      waiters.add(check);
      check();
      try {
        await within(
          Promise.race([
            found.promise,
            exited.then(() => {
              if (!lines.some(match)) throw new Error(`member process exited early: ${stderr}`);
            }),
          ]),
          timeoutMs,
        );
      } catch (error) {
        throw new Error(`${String(error)}; member stdout: ${lines.join(' | ')}; stderr: ${stderr.slice(-2000)}`, {
          cause: error,
        });
      } finally {
        waiters.delete(check);
      }
    },
  };
}
