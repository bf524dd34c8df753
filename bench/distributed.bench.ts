/**
 * Distributed-mode benchmark on the test servers (real Kafka, mongo-java-server,
 * and the EventStoreDB gRPC emulator — no EventStoreDB can run here):
 *
 *   1. commands/s of `POST /api/v1/targets/` (C in flight, several users), with p50/p99,
 *      and once more with one request in flight (unloaded latency);
 *   2. projection lag: TargetAdded appended straight to the store at a fixed rate, time
 *      from the append's acknowledgement to the document in MongoDB and to the projection
 *      checkpoints the API waits on (read-your-writes);
 *   3. raw appends/s of one small event to a new stream, C in flight, through
 *      `eventStoreDbEventStore` to the same store while the four processes run, and the
 *      ratio commands/s ÷ raw appends/s;
 *   4. replay: N events the projections handle (UserRegistered, TargetAdded, TargetUpdated),
 *      written into a fresh emulator, then a full read-model build from an empty database
 *      (projectionRunner + mongoReadModels, as the projector runs it), in events/s, with
 *      where the time goes (read-model calls timed), the bare $all read rate and the same
 *      replay into memory read models as ceilings.
 *
 *   bash scripts/servers/servers.sh start && npx tsx bench/distributed.bench.ts
 *   npx tsx bench/distributed.bench.ts --duration=20 --concurrency=32 --json=/tmp/dist.json
 *
 * Settings (environment `BENCH_<NAME>` or `--<name>=value`):
 *   duration        seconds measured per throughput phase (15)
 *   warmup          seconds of discarded load before each throughput phase (3)
 *   concurrency     requests or appends in flight (16)
 *   users           bench users sharing the POST /targets/ load (default: = concurrency,
 *                   so no two requests of one user race on its account stream)
 *   c1-duration     seconds of POST /targets/ with one request in flight (5; 0 skips)
 *   lag-rate        appends/s in the projection-lag phase (50)
 *   lag-duration    seconds of the projection-lag phase (10)
 *   poll-ms         pause between two polls of MongoDB in the lag phase (1)
 *   replay-events   events written for the replay (100000; 0 skips the replay)
 *   replay-timeout  seconds the replay may take; slower is reported as partial (300)
 *   replay-mongo    private (default): a mongo-java-server of its own (same build and flags,
 *                   started with scripts/servers/servers.sh in a temp dir, 2 GiB heap, stopped
 *                   at the end) | shared: the shared server. mongo-java-server keeps an oplog
 *                   in memory that nothing trims (~1.7 KiB a write, not freed by dropDatabase), and
 *                   a 100k replay writes ~125k times: on the shared 512 MiB server that could end
 *                   in an OutOfMemoryError for everybody.
 *   replay-id-only  1: replay a second time (on a fresh mongo) through a bench-only variant of the
 *                   read models whose queries filter on `_id` alone (see idOnlyReadModels) (0)
 *   main-mongo      shared (default): the four processes use the shared mongo-java-server | private:
 *                   a mongo-java-server of the bench's own, as for the replay. Every write to
 *                   mongo-java-server stays in its in-memory oplog until it restarts (~1.7 KiB of heap
 *                   each); a run with the defaults writes ~28–43k times (mostly projection and relay
 *                   checkpoints), i.e. ~45–75 MiB of the shared server's 512 MiB heap, for good.
 *   min-headroom    MiB of old-generation heap the shared mongo must have free (read with `jstat`)
 *                   before the bench writes to it; less stops the bench with advice (150; 0: no check)
 *   cpu-prof        a directory: profile the four processes with the inspector (`<pid>.cpuprofile`
 *                   written there when they stop; the bench prints which pid is which role);
 *                   read them with `npx tsx bench/cpuprofile.ts FILE`
 *   count-mongo     1: put a counting TCP proxy (in this process) between the four processes and the
 *                   mongo they use, and report MongoDB commands per operation by command and collection
 *                   (diagnostic: the extra hop adds latency and CPU here, so figures of such a run are
 *                   not the headline ones)
 *   json            a file to write all figures to
 *
 * Every server is on 127.0.0.1; every loop is bounded in count and time; the children
 * (emulators, the four processes, the private mongo) are stopped by PID on exit, error
 * or Ctrl-C. The shared Kafka and mongo servers are used, never stopped (started, and left
 * running, only if `servers.sh status` says they are not running); the bench's own database
 * there is dropped at the end (its oplog entries stay: see main-mongo). It is a report, not
 * a test: exit code 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient, type Db } from 'mongodb';
import { eventStoreDbEventStore } from '../adapters/eventStoreDbEventStore.js';
import { memoryReadModels } from '../adapters/memoryReadModels.js';
import { mongoReadModels } from '../adapters/mongoReadModels.js';
import type {
  EventStore,
  EventToAppend,
  ReadModelCollection,
  ReadModelDocument,
  ReadModels,
} from '../adapters/ports.js';
import { allProjections } from '../projections/index.js';
import { projectionRunner } from '../projections/projectionRunner.js';
import { distributedRuntime, type DistributedRuntime } from '../test/support/distributedRuntime.js';
import { startEventStoreDbEmulator } from '../test/support/eventStoreDbEmulator.js';
import { percentiles, type Percentiles } from './openLoop.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');
const SERVERS = join(ROOT, 'scripts', 'servers', 'servers.sh');
const ADMIN_TOKEN = `bench-admin-${randomUUID()}`;
const PROJECTION_NAMES = allProjections.map((p) => p.name);

// ---------------------------------------------------------------- settings

function setting(name: string, fallback: string): string {
  const flag = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  if (flag) return flag.slice(name.length + 3);
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback;
}

function numberSetting(name: string, fallback: number, min: number, max: number): number {
  const value = Number(setting(name, String(fallback)));
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`--${name} must be in [${min}, ${max}]`);
  return value;
}

function settings() {
  const concurrency = numberSetting('concurrency', 16, 1, 256);
  const replayMongo = setting('replay-mongo', 'private');
  const mainMongo = setting('main-mongo', 'shared');
  if (mainMongo !== 'private' && mainMongo !== 'shared') throw new Error('--main-mongo: shared | private');
  if (replayMongo !== 'private' && replayMongo !== 'shared') throw new Error('--replay-mongo: private | shared');
  return {
    duration: numberSetting('duration', 15, 1, 120),
    warmup: numberSetting('warmup', 3, 0, 60),
    concurrency,
    users: numberSetting('users', concurrency, 1, 256),
    c1Duration: numberSetting('c1-duration', 5, 0, 60),
    lagRate: numberSetting('lag-rate', 50, 1, 2000),
    lagDuration: numberSetting('lag-duration', 10, 1, 120),
    pollMs: numberSetting('poll-ms', 1, 0, 100),
    replayEvents: numberSetting('replay-events', 100_000, 0, 500_000),
    replayTimeout: numberSetting('replay-timeout', 300, 10, 1800),
    replayMongo: replayMongo as 'private' | 'shared',
    replayIdOnly: setting('replay-id-only', '0') === '1',
    mainMongo: mainMongo as 'shared' | 'private',
    minHeadroomMiB: numberSetting('min-headroom', 150, 0, 100_000),
    cpuProf: setting('cpu-prof', ''),
    countMongo: setting('count-mongo', '0') === '1',
    json: setting('json', ''),
  };
}
type Settings = ReturnType<typeof settings>;

// ---------------------------------------------------------------- cleanup

const cleanups: Array<{ name: string; run: () => Promise<void> }> = [];
let cleaning: Promise<void> | undefined;

function onCleanup(name: string, run: () => Promise<void>): () => Promise<void> {
  const entry = { name, run };
  cleanups.push(entry);
  return async () => {
    const index = cleanups.indexOf(entry);
    if (index >= 0) cleanups.splice(index, 1);
    await run();
  };
}

function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const { name, run } = cleanups.pop()!;
      await withTimeout(run(), 30_000, `cleanup ${name}`).catch((error: unknown) =>
        console.error(`cleanup ${name}: ${(error as Error).message}`),
      );
    }
  })();
  return cleaning;
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '—';

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function assertLoopback(url: string): void {
  const host = url
    .replace(/^[a-z]+:\/\//, '')
    .replace(/\/.*$/, '')
    .replace(/:\d+$/, '');
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== 'localhost') throw new Error(`not a loopback address: ${url}`);
}

/** An address in 127.0.0.0/8 for the n-th target (n ≥ 1; distinct up to 2^24). */
const loopbackValue = (n: number) => `127.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

// ---------------------------------------------------------------- CPU accounting

/** CPU seconds (user + system) a process has used so far; NaN when unknown. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  if (pid === process.pid) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return NaN;
  }
}

function machineBusySeconds(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - (cpu[3] ?? 0) - (cpu[4] ?? 0)) / 100;
  } catch {
    return NaN;
  }
}

function rssMiB(pid: number | undefined): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1]) / 1024;
  } catch {
    return NaN;
  }
}

interface CpuSnapshot {
  readonly at: number;
  readonly machine: number;
  readonly procs: Record<string, number>;
  /** MongoDB commands seen by the counting proxy so far (with count-mongo). */
  readonly mongoCommands?: Record<string, number>;
}

/** Set when the counting proxy runs. */
let mongoCommandCounts: Map<string, number> | undefined;

/** Cores used per process over a phase, and by everything else on the machine. */
interface CpuReport {
  readonly wallSec: number;
  readonly cores: Record<string, number>;
  readonly machineCores: number;
  readonly othersCores: number;
  /** MongoDB commands during the phase, by "command collection" (with count-mongo). */
  readonly mongoCommands?: Record<string, number>;
}

function cpuSnapshot(pids: Record<string, number | undefined>): CpuSnapshot {
  const procs: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) procs[name] = cpuSeconds(pid);
  return {
    at: performance.now(),
    machine: machineBusySeconds(),
    procs,
    ...(mongoCommandCounts ? { mongoCommands: Object.fromEntries(mongoCommandCounts) } : {}),
  };
}

function cpuReport(before: CpuSnapshot, after: CpuSnapshot): CpuReport {
  const wallSec = (after.at - before.at) / 1000;
  const cores: Record<string, number> = {};
  let ours = 0;
  for (const name of Object.keys(before.procs)) {
    const used = (after.procs[name] ?? NaN) - (before.procs[name] ?? NaN);
    cores[name] = used / wallSec;
    if (Number.isFinite(used)) ours += used;
  }
  const machine = after.machine - before.machine;
  const report = { wallSec, cores, machineCores: machine / wallSec, othersCores: (machine - ours) / wallSec };
  if (!before.mongoCommands || !after.mongoCommands) return report;
  const mongoCommands: Record<string, number> = {};
  for (const [name, count] of Object.entries(after.mongoCommands)) {
    const used = count - (before.mongoCommands[name] ?? 0);
    if (used > 0) mongoCommands[name] = used;
  }
  return { ...report, mongoCommands };
}

/** CPU milliseconds per operation, by process (ours only). */
function cpuPerOperation(report: CpuReport, perSec: number): string {
  const parts = Object.entries(report.cores).map(([name, c]) => `${name} ${fmt((1000 * c) / perSec, 2)}`);
  const ours = Object.values(report.cores).reduce((sum, c) => sum + (Number.isFinite(c) ? c : 0), 0);
  return `CPU ms per operation: ${parts.join(', ')}; all ours ${fmt((1000 * ours) / perSec, 2)}`;
}

/** The phase's MongoDB commands per operation, most frequent first. */
function perOperation(report: CpuReport, operations: number): string {
  const entries = Object.entries(report.mongoCommands ?? {}).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return `${fmt(total / operations, 1)} MongoDB commands each: ${entries
    .filter(([, n]) => n / operations >= 0.05)
    .map(([name, n]) => `${name} ${fmt(n / operations, 2)}`)
    .join(', ')}`;
}

function cpuLine(report: CpuReport): string {
  const parts = Object.entries(report.cores).map(([name, c]) => `${name} ${fmt(c, 2)}`);
  return `cores used: ${parts.join(', ')}; machine ${fmt(report.machineCores, 2)} of ${cpus().length}, of which others ${fmt(report.othersCores, 2)}`;
}

/**
 * `--cpu-prof` is not allowed in NODE_OPTIONS: this NODE_OPTIONS imports an inline module
 * that starts the inspector's profiler and writes `<dir>/<pid>.cpuprofile` on exit.
 */
function profilerImport(dir: string): string {
  const code = [
    "import { Session } from 'node:inspector';",
    "import { writeFileSync } from 'node:fs';",
    'const session = new Session();',
    'session.connect();',
    "session.post('Profiler.enable');",
    "session.post('Profiler.start');",
    "process.on('exit', () => session.post('Profiler.stop', (error, result) => {",
    `  if (!error) writeFileSync(${JSON.stringify(dir)} + '/' + process.pid + '.cpuprofile', JSON.stringify(result.profile));`,
    '}));',
  ].join('\n');
  return `--import=data:text/javascript,${encodeURIComponent(code)}`;
}

// ---------------------------------------------------------------- counting proxy (count-mongo)

/**
 * A TCP proxy to MongoDB that counts the commands clients send, by command name and
 * collection ("find checkpoints", "update targets", …), read from each OP_MSG's body.
 */
async function mongoCountingProxy(targetUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = /^mongodb:\/\/([^/:]+):(\d+)/.exec(targetUrl);
  if (!target) throw new Error(`count-mongo: cannot parse ${targetUrl}`);
  const [, host, port] = target;
  assertLoopback(`mongodb://${host}`);
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connectTcp(Number(port), host!);
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.pipe(client);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 16) {
        const length = pending.readInt32LE(0);
        if (length < 16 || pending.length < length) break;
        const name = commandOf(pending.subarray(0, length));
        counts.set(name, (counts.get(name) ?? 0) + 1);
        pending = pending.subarray(length);
      }
    });
  });
  const proxyPort = await new Promise<number>((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePort((server.address() as { port: number }).port));
  });
  mongoCommandCounts = counts;
  return {
    url: `mongodb://127.0.0.1:${proxyPort}/?directConnection=true`,
    close: () =>
      new Promise<void>((resolveClose) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolveClose());
      }),
  };
}

/** "command collection" of a client message (OP_MSG body: first element, and its value when a string). */
function commandOf(message: Buffer): string {
  const opCode = message.readInt32LE(12);
  if (opCode !== 2013) return opCode === 2004 ? 'OP_QUERY' : `opcode ${opCode}`;
  let offset = 20; // header (16) + flagBits (4)
  if (message[offset] !== 0) return 'OP_MSG (sequence first)';
  offset += 1 + 4; // section kind, BSON document length
  const type = message[offset];
  const keyEnd = message.indexOf(0, offset + 1);
  const key = message.toString('latin1', offset + 1, keyEnd);
  if (type !== 0x02) return key;
  const length = message.readInt32LE(keyEnd + 1);
  return `${key} ${message.toString('utf8', keyEnd + 5, keyEnd + 4 + length)}`;
}

/**
 * Free old-generation heap of a JVM in MiB (`jstat`, read-only), or undefined when unknown.
 * The shared mongo-java-server runs with -XX:+ExitOnOutOfMemoryError and an oplog nothing trims.
 */
function jvmOldGenHeadroomMiB(pid: number | undefined): { usedMiB: number; maxMiB: number } | undefined {
  if (pid === undefined) return undefined;
  const column = (args: string[], name: string) => {
    const out = spawnSync('jstat', [...args, String(pid)], { encoding: 'utf8', timeout: 20_000 });
    if (out.status !== 0 || !out.stdout) return NaN;
    const [header, values] = out.stdout.trim().split('\n');
    const index = header!.trim().split(/\s+/).indexOf(name);
    return Number(values?.trim().split(/\s+/)[index]);
  };
  const used = column(['-gc'], 'OU');
  const max = column(['-gccapacity'], 'OGCMX');
  if (!Number.isFinite(used) || !Number.isFinite(max) || max <= 0) return undefined;
  return { usedMiB: used / 1024, maxMiB: max / 1024 };
}

// ---------------------------------------------------------------- servers and children

function serversEnv(): { mongoUrl: string; kafka: string; pids: Record<string, number | undefined> } {
  const status = spawnSync('bash', [SERVERS, 'status'], { encoding: 'utf8', timeout: 30_000 });
  if (status.status !== 0) {
    console.log('servers not all running: bash scripts/servers/servers.sh start (they are left running)');
    const started = spawnSync('bash', [SERVERS, 'start'], { encoding: 'utf8', timeout: 180_000, stdio: 'inherit' });
    if (started.status !== 0) throw new Error('scripts/servers/servers.sh start failed');
  }
  const again = spawnSync('bash', [SERVERS, 'status'], { encoding: 'utf8', timeout: 30_000 }).stdout;
  const pid = (name: string) => {
    const match = new RegExp(`^${name}: running pid=(\\d+)`, 'm').exec(again);
    return match ? Number(match[1]) : undefined;
  };
  const env = spawnSync('bash', [SERVERS, 'env'], { encoding: 'utf8', timeout: 30_000 }).stdout;
  const value = (name: string) => new RegExp(`^export ${name}=(.*)$`, 'm').exec(env)?.[1]?.trim();
  const mongoUrl = process.env.MONGODB_URL ?? value('MONGODB_URL');
  const kafka = process.env.KAFKA_BROKERS ?? value('KAFKA_BROKERS');
  if (!mongoUrl || !kafka) throw new Error('cannot find MONGODB_URL / KAFKA_BROKERS (scripts/servers/servers.sh env)');
  assertLoopback(mongoUrl);
  for (const broker of kafka.split(',')) assertLoopback(`kafka://${broker}`);
  return { mongoUrl, kafka, pids: { mongo: pid('mongo'), kafka: pid('kafka') } };
}

/** An EventStoreDB emulator in a child process (so that it does not share the load generator's thread). */
async function emulatorChild(label: string): Promise<{ connectionString: string; pid: number; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve-emulator'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = onCleanup(`emulator ${label}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await withTimeout(exited, 10_000, `emulator ${label} exit`).catch(() => child.kill('SIGKILL'));
  });
  const connectionString = await withTimeout(
    new Promise<string>((resolveLine, reject) => {
      let buffer = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const line = buffer.split('\n')[0];
        if (buffer.includes('\n') && line)
          resolveLine((JSON.parse(line) as { connectionString: string }).connectionString);
      });
      void exited.then(() => reject(new Error(`emulator ${label} exited`)));
    }),
    60_000,
    `emulator ${label} start`,
  );
  assertLoopback(connectionString.split('?')[0]!);
  return { connectionString, pid: child.pid!, stop };
}

/** A mongo-java-server of the bench's own: the same launcher and flags as the shared one, in a temp dir. */
async function privateMongo(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'secably-bench-mongo-'));
  const port = await freePort();
  const env = { ...process.env, SECABLY_SERVERS_DIR: dir, SECABLY_MONGO_PORT: String(port), SECABLY_MONGO_HEAP: '2g' };
  const started = spawnSync('bash', [SERVERS, 'start', 'mongo'], { env, encoding: 'utf8', timeout: 180_000 });
  let pid: number | undefined;
  try {
    pid = Number(readFileSync(join(dir, 'mongo', 'mongo.pid'), 'utf8').trim());
  } catch {
    /* no pid file: the start failed */
  }
  const stop = onCleanup('private mongo', async () => {
    if (pid && Number.isInteger(pid) && pid > 1) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  if (started.status !== 0 || !pid) {
    await stop();
    throw new Error(`private mongo did not start:\n${started.stderr}`);
  }
  return { url: `mongodb://127.0.0.1:${port}/?directConnection=true`, pid, stop };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- HTTP

async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers,
    signal: AbortSignal.timeout(30_000),
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

interface BenchUser {
  readonly id: string;
  readonly token: string;
}

async function createUsers(base: string, count: number): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  const tag = Date.now().toString(36);
  for (let start = 0; start < count; start += 4) {
    const batch = Array.from({ length: Math.min(4, count - start) }, async (_, k) => {
      const i = start + k;
      const password = 'bench horse battery staple';
      const reg = await call(base, 'POST', '/auth/register/', {
        body: {
          email: `bench-${tag}-${i}@example.com`,
          first_name: 'Bench',
          last_name: `User${i}`,
          password,
          password_confirm: password,
        },
      });
      if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
      const id = String(reg.body.user.id);
      const plan = await call(base, 'POST', `/admin/users/${id}/subscription/`, {
        token: ADMIN_TOKEN,
        body: { plan: 'enterprise' },
      });
      if (plan.status !== 200) throw new Error(`plan change: ${plan.status} ${JSON.stringify(plan.body)}`);
      return { id, token: String(reg.body.access) };
    });
    users.push(...(await Promise.all(batch)));
  }
  return users;
}

// ---------------------------------------------------------------- closed-loop load (C in flight)

interface LoadResult {
  readonly concurrency: number;
  readonly durationSec: number;
  /** Operations completed OK inside the measured window. */
  readonly ok: number;
  readonly failed: number;
  readonly perSec: number;
  readonly latencyMs: Percentiles;
  readonly failures: Record<string, number>;
  readonly cpu: CpuReport;
}

/**
 * Runs `op` with `concurrency` in flight: `warmupSec` discarded, then `durationSec`
 * measured (completions inside the window count; their latencies are reported).
 * Bounded by `maxOps` and by time.
 */
async function closedLoop(
  concurrency: number,
  warmupSec: number,
  durationSec: number,
  pids: Record<string, number | undefined>,
  op: (worker: number, seq: number) => Promise<string | undefined>,
  maxOps = 2_000_000,
): Promise<LoadResult> {
  const start = performance.now();
  const measureFrom = start + warmupSec * 1000;
  const measureTo = measureFrom + durationSec * 1000;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let failed = 0;
  let seq = 0;
  let before: CpuSnapshot | undefined;
  const warmupOver = sleep(warmupSec * 1000).then(() => {
    before = cpuSnapshot(pids);
  });
  const workers = Array.from({ length: concurrency }, async (_, worker) => {
    while (performance.now() < measureTo && seq < maxOps) {
      const n = ++seq;
      const began = performance.now();
      let failure: string | undefined;
      try {
        failure = await op(worker, n);
      } catch (error) {
        failure = (error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message.slice(0, 120);
      }
      const ended = performance.now();
      if (ended < measureFrom || ended > measureTo) continue;
      if (failure === undefined) latencies.push(ended - began);
      else {
        failed += 1;
        failures[failure] = (failures[failure] ?? 0) + 1;
      }
    }
  });
  await Promise.all(workers);
  await warmupOver;
  const cpu = cpuReport(before!, cpuSnapshot(pids));
  return {
    concurrency,
    durationSec,
    ok: latencies.length,
    failed,
    perSec: latencies.length / durationSec,
    latencyMs: percentiles(latencies),
    failures,
    cpu,
  };
}

// ---------------------------------------------------------------- projection lag

interface LagResult {
  readonly rate: number;
  readonly sent: number;
  readonly appendMs: Percentiles;
  /** From the append's acknowledgement to the document being found in MongoDB. */
  readonly docVisibleMs: Percentiles;
  /** From the acknowledgement to every projection checkpoint ≥ the event (what read-your-writes waits for). */
  readonly checkpointMs: Percentiles;
  readonly notSeen: number;
  /** Round trip of one poll (two queries in parallel): the measurement's resolution. */
  readonly pollMs: Percentiles;
  readonly cpu: CpuReport;
}

async function projectionLag(
  store: EventStore,
  mongo: MongoClient,
  database: string,
  users: readonly BenchUser[],
  s: Settings,
  pids: Record<string, number | undefined>,
): Promise<LagResult> {
  const db = mongo.db(database);
  const targets = db.collection<{ _id: string }>('targets');
  const checkpoints = db.collection<{ _id: string; position: number }>('checkpoints');
  interface Sample {
    readonly sent: number;
    acked?: number;
    position?: number;
    doc?: number;
    checkpoint?: number;
  }
  const samples = new Map<string, Sample>();
  const total = Math.round(s.lagRate * s.lagDuration);
  const before = cpuSnapshot(pids);
  const start = performance.now() + 50;
  let sending = true;
  const appends: Promise<void>[] = [];

  const sender = (async () => {
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / s.lagRate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const targetId = randomUUID();
      const user = users[i % users.length]!;
      const sample: Sample = { sent: performance.now() };
      samples.set(targetId, sample);
      const at = new Date().toISOString();
      appends.push(
        store
          .appendToStream(
            `target-${targetId}`,
            [
              {
                id: randomUUID(),
                type: 'TargetAdded',
                data: {
                  targetId,
                  userId: user.id,
                  name: `lag ${i}`,
                  targetValue: loopbackValue(0xa00000 + i),
                  targetType: 'ip',
                  description: '',
                  addedAt: at,
                },
              },
            ],
            { expectedRevision: 'no_stream' },
          )
          .then((result) => {
            sample.acked = performance.now();
            sample.position = result.position;
          }),
      );
    }
    await Promise.all(appends);
    sending = false;
  })();

  const polls: number[] = [];
  const deadline = start + s.lagDuration * 1000 + 30_000;
  while (performance.now() < deadline) {
    const open = [...samples.entries()].filter(([, x]) => x.doc === undefined || x.checkpoint === undefined);
    if (!sending && open.length === 0) break;
    const began = performance.now();
    const [docs, cps] = await Promise.all([
      targets
        .find(
          { _id: { $in: open.filter(([, x]) => x.doc === undefined).map(([id]) => id) } },
          { projection: { _id: 1 } },
        )
        .toArray(),
      checkpoints.find({ _id: { $in: PROJECTION_NAMES } }).toArray(),
    ]);
    const now = performance.now();
    polls.push(now - began);
    for (const doc of docs) {
      const sample = samples.get(doc._id);
      if (sample && sample.doc === undefined) sample.doc = now;
    }
    const byName = new Map(cps.map((c) => [c._id, c.position]));
    const reached = Math.min(...PROJECTION_NAMES.map((name) => byName.get(name) ?? -1));
    for (const [, sample] of open) {
      if (sample.checkpoint === undefined && sample.position !== undefined && sample.position <= reached) {
        sample.checkpoint = now;
      }
    }
    if (s.pollMs > 0) await sleep(s.pollMs);
  }
  await sender;
  const cpu = cpuReport(before, cpuSnapshot(pids));
  const all = [...samples.values()];
  const acked = all.filter((x) => x.acked !== undefined);
  return {
    rate: s.lagRate,
    sent: all.length,
    appendMs: percentiles(acked.map((x) => x.acked! - x.sent)),
    docVisibleMs: percentiles(acked.filter((x) => x.doc !== undefined).map((x) => x.doc! - x.acked!)),
    checkpointMs: percentiles(acked.filter((x) => x.checkpoint !== undefined).map((x) => x.checkpoint! - x.acked!)),
    notSeen: all.filter((x) => x.doc === undefined || x.checkpoint === undefined).length,
    pollMs: percentiles(polls),
    cpu,
  };
}

/** Waits (bounded) until the domain-events relay has published up to the store's head; returns ms or NaN. */
async function drainRelay(store: EventStore, mongo: MongoClient, database: string, maxMs: number): Promise<number> {
  const began = performance.now();
  const head = await store.headPosition();
  const collection = mongo.db(database).collection<{ _id: string; position: number }>('subscription_checkpoints');
  while (performance.now() - began < maxMs) {
    const relay = await collection.findOne({ _id: 'domain-events-relay' });
    if ((relay?.position ?? -1) >= head) return performance.now() - began;
    await sleep(100);
  }
  return NaN;
}

// ---------------------------------------------------------------- replay

interface CallStats {
  count: number;
  ms: number;
}

/** ReadModels whose calls are counted and timed (the runner calls them one at a time). */
function timedReadModels(inner: ReadModels, stats: Record<string, CallStats>): ReadModels {
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const began = performance.now();
    try {
      return await run();
    } finally {
      const entry = (stats[name] ??= { count: 0, ms: 0 });
      entry.count += 1;
      entry.ms += performance.now() - began;
    }
  };
  return {
    collection(name) {
      const c = inner.collection(name);
      const wrapped: ReadModelCollection = {
        get: (id) => timed(`${name}.get`, () => c.get(id)),
        find: (filter, options) => timed(`${name}.find`, () => c.find(filter, options)),
        count: (filter) => timed(`${name}.count`, () => c.count(filter)),
        applyAt: (id, position, doc) => timed(`${name}.applyAt`, () => c.applyAt(id, position, doc as never)),
      };
      return wrapped as never;
    },
    getCheckpoint: (p) => timed('getCheckpoint', () => inner.getCheckpoint(p)),
    setCheckpoint: (p, position) => timed('setCheckpoint', () => inner.setCheckpoint(p, position)),
    reset: (collections, projections) => timed('reset', () => inner.reset(collections, projections)),
    close: () => inner.close(),
  };
}

interface ReplayPass {
  readonly label: string;
  readonly events: number;
  readonly seconds: number;
  readonly perSec: number;
  readonly complete: boolean;
  readonly cpu: CpuReport;
  readonly calls?: Record<string, CallStats>;
  /** events/s in each 10% of the replay (does it slow down as the collections grow?). */
  readonly deciles?: number[];
  readonly check?: { targets: number; profiles: number; targetsCount: number; ok: boolean };
  readonly mongoRssMiB?: { before: number; after: number };
  readonly probe?: Record<string, number>;
}

interface ReplayResult {
  readonly events: number;
  readonly users: number;
  readonly targets: number;
  readonly fill: { seconds: number; appends: number; perSec: number };
  readonly passes: ReplayPass[];
  readonly mongo: 'private' | 'shared';
}

/** Writes `events` events in batches: UserRegistered per user, then per target [Added, Updated] and later [Updated, Updated]. */
async function fillStore(
  store: EventStore,
  events: number,
): Promise<{ users: number; targets: number; appends: number }> {
  const users = Math.max(1, Math.round(events / 100));
  const targets = Math.floor((events - users) / 4);
  const extra = events - users - targets * 4; // 0..3 more updates for the first targets
  const userIds = Array.from({ length: users }, () => randomUUID());
  const targetIds = Array.from({ length: targets }, () => randomUUID());
  const owner = (t: number) => userIds[t % users]!;
  const now = () => new Date().toISOString();
  const updated = (t: number, k: number): EventToAppend => ({
    id: randomUUID(),
    type: 'TargetUpdated',
    data: {
      targetId: targetIds[t]!,
      userId: owner(t),
      ...(k % 3 === 0
        ? { name: `target ${t} v${k}` }
        : k % 3 === 1
          ? { description: `note ${k}` }
          : { active: k % 2 === 0 }),
      updatedAt: now(),
    },
  });
  const jobs: Array<() => Promise<unknown>> = [];
  for (let u = 0; u < users; u++) {
    jobs.push(() =>
      store.appendToStream(
        `user-${userIds[u]}`,
        [
          {
            id: randomUUID(),
            type: 'UserRegistered',
            data: {
              userId: userIds[u]!,
              email: `replay-${u}@example.com`,
              firstName: 'Replay',
              lastName: `User${u}`,
              passwordHash: `scrypt$15$8$1$${'a'.repeat(22)}$${'b'.repeat(43)}`,
              registeredAt: now(),
            },
          },
        ],
        { expectedRevision: 'no_stream' },
      ),
    );
  }
  for (let t = 0; t < targets; t++) {
    jobs.push(() =>
      store.appendToStream(
        `target-${targetIds[t]}`,
        [
          {
            id: randomUUID(),
            type: 'TargetAdded',
            data: {
              targetId: targetIds[t]!,
              userId: owner(t),
              name: `target ${t}`,
              targetValue: loopbackValue(t + 1),
              targetType: 'ip',
              description: '',
              addedAt: now(),
            },
          },
          updated(t, 1),
        ],
        { expectedRevision: 'no_stream' },
      ),
    );
  }
  for (let t = 0; t < targets; t++) {
    jobs.push(() =>
      store.appendToStream(`target-${targetIds[t]}`, [updated(t, 2), updated(t, 3)], { expectedRevision: 1 }),
    );
  }
  for (let t = 0; t < extra; t++) {
    jobs.push(() => store.appendToStream(`target-${targetIds[t]}`, [updated(t, 4)], { expectedRevision: 3 }));
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  return { users, targets, appends: jobs.length };
}

/** Replays the whole store through `readModels` until the runner reaches `head`; bounded by `timeoutSec`. */
async function replayPass(
  label: string,
  store: EventStore,
  readModels: ReadModels,
  head: number,
  total: number,
  timeoutSec: number,
  pids: Record<string, number | undefined>,
  calls?: Record<string, CallStats>,
): Promise<ReplayPass> {
  const silent = { error: (o: object, m?: string) => console.error(m, o), info: () => undefined };
  const runner = projectionRunner({
    store,
    readModels,
    projections: allProjections,
    logger: silent,
    checkpointEveryMs: 10,
  });
  const before = cpuSnapshot(pids);
  const began = performance.now();
  await runner.start();
  // Positions are byte offsets; progress in events is estimated from them (events are of similar size).
  const marks: number[] = [];
  let complete = false;
  const deadline = began + timeoutSec * 1000;
  while (performance.now() < deadline) {
    if (runner.position() >= head) {
      complete = true;
      break;
    }
    const fraction = Math.max(0, runner.position()) / head;
    while (marks.length < 10 && fraction >= (marks.length + 1) / 10) marks.push(performance.now());
    await sleep(20);
  }
  const ended = performance.now();
  while (marks.length < 10 && complete) marks.push(ended);
  const reached = Math.max(0, runner.position());
  await runner.stop();
  const cpu = cpuReport(before, cpuSnapshot(pids));
  const seconds = (ended - began) / 1000;
  const events = complete ? total : Math.round((total * reached) / head);
  const deciles = marks.map((at, i) => total / 10 / ((at - (i === 0 ? began : marks[i - 1]!)) / 1000));
  return { label, events, seconds, perSec: events / seconds, complete, cpu, ...(calls ? { calls } : {}), deciles };
}

/** The bare read rate of $all through the adapter (no projection work): the store side's ceiling. */
async function readAllPass(
  store: EventStore,
  head: number,
  pids: Record<string, number | undefined>,
): Promise<ReplayPass> {
  const before = cpuSnapshot(pids);
  const began = performance.now();
  let count = 0;
  let done!: () => void;
  const reachedHead = new Promise<void>((r) => (done = r));
  const subscription = store.subscribeToAll({ after: -1 }, (event) => {
    count += 1;
    if (event.position >= head) done();
  });
  const complete = await withTimeout(reachedHead, 300_000, 'read $all').then(
    () => true,
    () => false,
  );
  const seconds = (performance.now() - began) / 1000;
  await subscription.stop();
  return {
    label: 'read $all only (adapter subscription, no-op handler)',
    events: count,
    seconds,
    perSec: count / seconds,
    complete,
    cpu: cpuReport(before, cpuSnapshot(pids)),
  };
}

async function replay(s: Settings, sharedMongoUrl: string, sharedMongoPid: number | undefined): Promise<ReplayResult> {
  const emulator = await emulatorChild('replay');
  const store = eventStoreDbEventStore({ connectionString: emulator.connectionString });
  try {
    console.log(
      `replay: writing ${fmt(s.replayEvents)} events into a fresh emulator (batches of 1–2 events per append)…`,
    );
    const fillBegan = performance.now();
    const filled = await withTimeout(fillStore(store, s.replayEvents), 600_000, 'filling the store');
    const fillSeconds = (performance.now() - fillBegan) / 1000;
    const head = await store.headPosition();
    const passes: ReplayPass[] = [];
    const storePids = { bench: process.pid, emulator: emulator.pid };

    passes.push(await readAllPass(store, head, storePids));
    console.log(`  ${passes.at(-1)!.label}: ${fmt(passes.at(-1)!.perSec)} events/s`);

    const memory = await replayPass(
      'replay into memory read models (runner + projections, no MongoDB)',
      store,
      memoryReadModels(),
      head,
      s.replayEvents,
      s.replayTimeout,
      storePids,
    );
    passes.push(memory);
    console.log(`  ${memory.label}: ${fmt(memory.perSec)} events/s`);

    const variants: Array<'adapter' | 'id-only'> = s.replayIdOnly ? ['adapter', 'id-only'] : ['adapter'];
    for (const variant of variants) {
      const mongo =
        s.replayMongo === 'private'
          ? await privateMongo()
          : { url: sharedMongoUrl, pid: sharedMongoPid ?? 0, stop: async () => undefined };
      const client = new MongoClient(mongo.url, { appName: 'secably-bench' });
      try {
        await client.connect();
        const database = `secably_bench_replay_${randomUUID().slice(0, 8)}`;
        const rssBefore = rssMiB(mongo.pid);
        const inner = await mongoReadModels({ url: mongo.url, database });
        const calls: Record<string, CallStats> = {};
        const label =
          variant === 'adapter'
            ? `full read-model build into MongoDB (${s.replayMongo} mongo-java-server), from an empty database`
            : `same, _id-only queries (bench variant of mongoReadModels, not the adapter)`;
        console.log(`  ${label} (database ${database})…`);
        const readModels = variant === 'adapter' ? inner : idOnlyReadModels(inner, client.db(database));
        const pass = await replayPass(
          label,
          store,
          timedReadModels(readModels, calls),
          head,
          s.replayEvents,
          s.replayTimeout,
          { ...storePids, mongo: mongo.pid },
          calls,
        );
        const profiles = await inner.collection('profiles').find({});
        const check = {
          targets: await inner.collection('targets').count({}),
          profiles: profiles.length,
          targetsCount: profiles.reduce((sum, p) => sum + Number(p.targets_count ?? 0), 0),
          ok: false,
        };
        check.ok =
          pass.complete &&
          check.targets === filled.targets &&
          check.profiles === filled.users &&
          check.targetsCount === filled.targets;
        const probe = variant === 'adapter' ? await indexProbe(client.db(database), inner) : undefined;
        const done: ReplayPass = {
          ...pass,
          check,
          mongoRssMiB: { before: rssBefore, after: rssMiB(mongo.pid) },
          ...(probe ? { probe } : {}),
        };
        passes.push(done);
        console.log(`  ${label}: ${fmt(pass.perSec)} events/s${pass.complete ? '' : ' (PARTIAL: timed out)'}`);
        if (s.replayMongo === 'shared') await client.db(database).dropDatabase();
        await inner.close();
      } finally {
        await client.close();
        await mongo.stop();
      }
    }
    return {
      events: s.replayEvents,
      users: filled.users,
      targets: filled.targets,
      fill: { seconds: fillSeconds, appends: filled.appends, perSec: s.replayEvents / fillSeconds },
      passes,
      mongo: s.replayMongo,
    };
  } finally {
    await store.close();
    await emulator.stop();
  }
}

/**
 * The same reads and writes as mongoReadModels, but every query on `_id` alone (the only
 * shape mongo-java-server answers from its `_id` index): `get` filters tombstones here,
 * and `applyAt` checks the position it saw in the runner's `get` just before (the runner
 * is the only writer during a rebuild) and then replaces by `_id`. Not atomic like the
 * adapter's guard — a measurement of what the guard's query shape costs, not a fix.
 */
function idOnlyReadModels(inner: ReadModels, db: Db): ReadModels {
  const seen = new Map<string, number | undefined>();
  return {
    collection(name) {
      const documents = db.collection<Record<string, unknown> & { _id: string }>(name);
      const adapter = inner.collection(name);
      const wrapped: ReadModelCollection = {
        find: (filter, options) => adapter.find(filter, options),
        count: (filter) => adapter.count(filter),
        async get(id) {
          const doc = await documents.findOne({ _id: id });
          seen.set(`${name}/${id}`, doc?._position as number | undefined);
          return doc && doc._deleted === undefined ? (doc as ReadModelDocument) : null;
        },
        async applyAt(id, position, doc) {
          const key = `${name}/${id}`;
          const known = seen.has(key)
            ? seen.get(key)
            : ((await documents.findOne({ _id: id }, { projection: { _position: 1 } }))?._position as
                number | undefined);
          seen.delete(key);
          if (known !== undefined && known >= position) return false;
          const { _id: _ignoredId, _position: _ignoredPosition, ...fields } = (doc ?? {}) as Record<string, unknown>;
          const replacement =
            doc === null
              ? { _id: id, _position: position, _deleted: true }
              : { _id: id, ...fields, _position: position };
          await documents.replaceOne({ _id: id }, replacement, { upsert: true });
          return true;
        },
      };
      return wrapped as never;
    },
    getCheckpoint: (p) => inner.getCheckpoint(p),
    setCheckpoint: (p, position) => inner.setCheckpoint(p, position),
    reset: (collections, projections) => inner.reset(collections, projections),
    close: () => inner.close(),
  };
}

/** Per-call time of the adapter's query shapes against `_id`-only ones, on the rebuilt targets collection. */
async function indexProbe(db: Db, readModels: ReadModels): Promise<Record<string, number>> {
  const targets = db.collection<Record<string, unknown> & { _id: string }>('targets');
  // Spread over the natural order: a scan that stops at the first match is cheap for the first documents.
  const all = await targets.find({}, { projection: { _id: 1 } }).toArray();
  const picks = Array.from({ length: Math.min(100, all.length) }, (_, i) => all[Math.floor((i * all.length) / 100)]!);
  const adapter = readModels.collection('targets');
  const time = async (run: (doc: (typeof picks)[number]) => Promise<unknown>) => {
    const began = performance.now();
    for (const doc of picks) await run(doc);
    return ((performance.now() - began) * 1000) / Math.max(1, picks.length);
  };
  const docs = await targets.countDocuments({});
  const findById = await time((doc) => targets.findOne({ _id: doc._id }));
  const adapterGet = await time((doc) => adapter.get(doc._id));
  // The adapter's guarded replace, as applyAt sends it, with a position that wins (the document stays the same).
  const guarded = await time(async (doc) => {
    const current = (await targets.findOne({ _id: doc._id }))!;
    const position = Number(current._position) + 1;
    await targets.replaceOne(
      { _id: doc._id, $or: [{ _position: { $exists: false } }, { _position: { $lt: position } }] },
      { ...current, _position: position },
      { upsert: true },
    );
  });
  const replaceById = await time(async (doc) => {
    const current = (await targets.findOne({ _id: doc._id }))!;
    await targets.replaceOne({ _id: doc._id }, { ...current, _position: Number(current._position) + 1 });
  });
  return {
    documents: docs,
    'findOne {_id} µs': findById,
    'adapter get {_id, _deleted: {$exists: false}} µs': adapterGet,
    'findOne {_id} + guarded replaceOne {_id, $or: [_position…]} µs': guarded,
    'findOne {_id} + replaceOne {_id} µs': replaceById,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const s = settings();
  const hardStop = setTimeout(() => {
    console.error('bench: overall time limit reached; stopping');
    void cleanupAll().finally(() => process.exit(1));
  }, 45 * 60_000);
  hardStop.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      console.error(`bench: ${signal}; cleaning up`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  const results: Record<string, unknown> = {};
  try {
    const servers = serversEnv();
    process.env.MONGODB_URL = servers.mongoUrl;
    process.env.KAFKA_BROKERS = servers.kafka;
    const machine = {
      date: new Date().toISOString(),
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadavgAtStart: loadavg().map((l) => Number(l.toFixed(2))),
    };
    results.machine = machine;
    results.settings = s;
    console.log(
      `${machine.date}  ${machine.cpus}, ${machine.memGiB} GiB, node ${machine.node}, load average ${machine.loadavgAtStart.join(' ')}`,
    );
    console.log(
      `settings: duration ${s.duration}s, warmup ${s.warmup}s, concurrency ${s.concurrency}, users ${s.users}, lag ${s.lagRate}/s × ${s.lagDuration}s, replay ${s.replayEvents} events (${s.replayMongo} mongo)`,
    );

    // ------------------------------------------------------------ the four processes on the servers
    let mainMongo: { url: string; pid: number | undefined; stop?: () => Promise<void> } = {
      url: servers.mongoUrl,
      pid: servers.pids.mongo,
    };
    if (s.mainMongo === 'shared') {
      const heap = jvmOldGenHeadroomMiB(servers.pids.mongo);
      results.sharedMongoHeapAtStart = heap;
      if (heap === undefined) {
        console.log('shared mongo: heap unknown (no jstat); a run keeps ~45–75 MiB of its heap (oplog)');
      } else {
        const free = heap.maxMiB - heap.usedMiB;
        console.log(`shared mongo: old generation ${fmt(heap.usedMiB)} of ${fmt(heap.maxMiB)} MiB used`);
        if (s.minHeadroomMiB > 0 && free < s.minHeadroomMiB) {
          throw new Error(
            `the shared mongo-java-server has only ${fmt(free)} MiB of old-generation heap free (< ${s.minHeadroomMiB}); ` +
              'its in-memory oplog keeps every write until it restarts, and it exits on OutOfMemoryError. ' +
              'Run with --main-mongo=private, or ask whoever runs the shared servers to restart mongo when nobody uses it.',
          );
        }
      }
    } else {
      const own = await privateMongo();
      mainMongo = own;
      process.env.MONGODB_URL = own.url; // the runtime's own read-model client too
      console.log(`the four processes use a private mongo-java-server (pid ${own.pid})`);
    }
    const emulator = await emulatorChild('main');
    const id = randomUUID().slice(0, 8);
    const database = `secably_bench_${id}`;
    console.log(`starting api, projector, dispatcher, worker (database ${database}, topic prefix bench-${id}.)…`);
    const proxy = s.countMongo ? await mongoCountingProxy(mainMongo.url) : undefined;
    if (proxy) onCleanup('mongo proxy', () => proxy.close());
    const runtime: DistributedRuntime = await distributedRuntime({
      MONGODB_URL: proxy ? proxy.url : mainMongo.url,
      EVENTSTORE_URL: emulator.connectionString, // the emulator child, not the runtime's in-process one (left idle)
      MONGODB_DATABASE: database,
      SECABLY_TOPIC_PREFIX: `bench-${id}.`,
      SECABLY_ALLOWED_TARGETS: '127.0.0.0/8',
      SECABLY_ADMIN_TOKEN: ADMIN_TOKEN,
      SECABLY_RATE_LIMIT_MULTIPLIER: '1000000',
      ...(s.cpuProf ? { NODE_OPTIONS: profilerImport(resolve(s.cpuProf)) } : {}),
    });
    const mongo = new MongoClient(mainMongo.url, { appName: 'secably-bench' });
    await mongo.connect();
    const stopMain = onCleanup('runtime', async () => {
      await runtime.cleanup();
      await mongo
        .db(database)
        .dropDatabase()
        .catch(() => undefined);
      await mongo.close();
    });
    assertLoopback(runtime.base);
    const pids: Record<string, number | undefined> = {
      bench: process.pid,
      emulator: emulator.pid,
      api: runtime.process('api').pid,
      projector: runtime.process('projector').pid,
      dispatcher: runtime.process('dispatcher').pid,
      worker: runtime.process('worker').pid,
      mongo: mainMongo.pid,
      kafka: servers.pids.kafka,
    };
    if (s.cpuProf) {
      const roles = ['api', 'projector', 'dispatcher', 'worker'].map((role) => `${role} ${pids[role]}`).join(', ');
      console.log(`CPU profiles in ${resolve(s.cpuProf)} when the processes stop: ${roles}`);
    }
    const store = eventStoreDbEventStore({ connectionString: emulator.connectionString });
    const closeStore = onCleanup('bench store client', () => store.close());

    const users = await createUsers(runtime.base, s.users);
    console.log(`${users.length} users on the enterprise plan`);

    // ------------------------------------------------------------ 1. commands
    let targetSeq = 0;
    const postTarget = async (user: BenchUser): Promise<string | undefined> => {
      const n = ++targetSeq;
      const res = await call(runtime.base, 'POST', '/targets/', {
        token: user.token,
        body: { name: `bench ${n}`, target_value: loopbackValue(n) },
      });
      return res.status === 201 ? undefined : `${res.status} ${String(res.body?.code ?? '')}`.trim();
    };
    console.log(`POST /targets/: ${s.concurrency} in flight, ${s.warmup}s warm-up + ${s.duration}s…`);
    const commands = await closedLoop(s.concurrency, s.warmup, s.duration, pids, (worker) =>
      postTarget(users[worker % users.length]!),
    );
    results.commands = commands;
    console.log(
      `  ${fmt(commands.perSec, 1)} commands/s, p50 ${fmt(commands.latencyMs.p50, 1)} ms, p99 ${fmt(commands.latencyMs.p99, 1)} ms`,
    );
    console.log(`  ${cpuLine(commands.cpu)}`);
    console.log(`  ${cpuPerOperation(commands.cpu, commands.perSec)}`);
    if (proxy) console.log(`  ${perOperation(commands.cpu, commands.ok + commands.failed)}`);

    if (s.c1Duration > 0) {
      const single = await closedLoop(1, 1, s.c1Duration, pids, () => postTarget(users[0]!));
      results.commandsSingle = single;
      console.log(
        `POST /targets/, 1 in flight: ${fmt(single.perSec, 1)}/s, p50 ${fmt(single.latencyMs.p50, 1)} ms, p99 ${fmt(single.latencyMs.p99, 1)} ms`,
      );
      if (proxy) console.log(`  ${perOperation(single.cpu, single.ok + single.failed)}`);
    }
    const drainMs = await drainRelay(store, mongo, database, 60_000);
    results.relayDrainMs = drainMs;
    console.log(`domain-events relay caught up with the store ${fmt(drainMs / 1000, 1)} s after the commands`);

    // ------------------------------------------------------------ 2. projection lag
    console.log(`projection lag: TargetAdded at ${s.lagRate}/s for ${s.lagDuration}s…`);
    const lag = await projectionLag(store, mongo, database, users, s, pids);
    results.lag = lag;
    console.log(
      `  doc visible p50 ${fmt(lag.docVisibleMs.p50, 1)} / p99 ${fmt(lag.docVisibleMs.p99, 1)} ms; checkpoints p50 ${fmt(lag.checkpointMs.p50, 1)} / p99 ${fmt(lag.checkpointMs.p99, 1)} ms (poll ${fmt(lag.pollMs.p50, 1)} ms)`,
    );

    // ------------------------------------------------------------ 3. raw appends to the same store
    console.log(`raw appends: ${s.concurrency} in flight, ${s.warmup}s warm-up + ${s.duration}s…`);
    const raw = await closedLoop(s.concurrency, s.warmup, s.duration, pids, async (_worker, n) => {
      await store.appendToStream(
        `benchraw-${randomUUID()}`,
        [{ id: randomUUID(), type: 'BenchRawAppended', data: { n, at: new Date().toISOString() } }],
        { expectedRevision: 'no_stream' },
      );
      return undefined;
    });
    results.raw = raw;
    console.log(
      `  ${fmt(raw.perSec)} appends/s, p50 ${fmt(raw.latencyMs.p50, 2)} ms, p99 ${fmt(raw.latencyMs.p99, 2)} ms`,
    );
    console.log(`  ${cpuLine(raw.cpu)}`);
    console.log(`  ${cpuPerOperation(raw.cpu, raw.perSec)}`);
    if (proxy) console.log(`  ${perOperation(raw.cpu, raw.ok + raw.failed)}`);

    await closeStore();
    const mongoRssBeforeStop = rssMiB(mainMongo.pid);
    await stopMain();
    await emulator.stop();
    await mainMongo.stop?.();
    results.mainMongoRssMiB = mongoRssBeforeStop;
    if (s.mainMongo === 'shared') {
      const heap = jvmOldGenHeadroomMiB(servers.pids.mongo);
      results.sharedMongoHeapAtEnd = heap;
      if (heap)
        console.log(`shared mongo: old generation ${fmt(heap.usedMiB)} of ${fmt(heap.maxMiB)} MiB used after the run`);
    }

    // ------------------------------------------------------------ 4. replay
    let replayed: ReplayResult | undefined;
    if (s.replayEvents > 0) {
      replayed = await replay(s, servers.mongoUrl, servers.pids.mongo);
      results.replay = replayed;
    }

    // ------------------------------------------------------------ report
    const ratio = commands.perSec / raw.perSec;
    results.ratio = ratio;
    const p = (x: Percentiles, d = 1) => `p50 ${fmt(x.p50, d)} / p99 ${fmt(x.p99, d)} ms`;
    const rows: Array<[string, string, string]> = [
      [`raw appends (1 event, new stream, C=${s.concurrency})`, `${fmt(raw.perSec)} /s`, p(raw.latencyMs, 2)],
      [`POST /targets/ (C=${s.concurrency}, ${s.users} users)`, `${fmt(commands.perSec, 1)} /s`, p(commands.latencyMs)],
      ['  ratio commands/s ÷ raw appends/s', fmt(ratio, 4), `1 : ${fmt(1 / ratio, 1)}`],
    ];
    if (results.commandsSingle) {
      const single = results.commandsSingle as LoadResult;
      rows.push(['POST /targets/ (C=1)', `${fmt(single.perSec, 1)} /s`, p(single.latencyMs)]);
    }
    rows.push(
      [`projection lag, doc in MongoDB (${lag.rate}/s)`, `${lag.sent} events`, p(lag.docVisibleMs)],
      ['projection lag, checkpoints (read-your-writes)', `${lag.notSeen} not seen`, p(lag.checkpointMs)],
    );
    if (replayed) {
      for (const pass of replayed.passes) {
        rows.push([
          pass.label.replace(/ \(.*$/, ''),
          `${fmt(pass.perSec)} events/s`,
          `${fmt(pass.seconds, 1)} s${pass.complete ? '' : ' PARTIAL'}`,
        ]);
      }
    }
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log('\n' + rows.map((r) => `${r[0].padEnd(width)}  ${r[1].padStart(18)}  ${r[2]}`).join('\n'));
    if (replayed) {
      console.log(
        `\nreplay of ${fmt(replayed.events)} events (${replayed.users} users, ${replayed.targets} targets); fill ${fmt(replayed.fill.perSec)} events/s in ${replayed.fill.appends} appends`,
      );
      for (const pass of replayed.passes.filter((x) => x.calls)) {
        const totalCallMs = Object.values(pass.calls ?? {}).reduce((sum, c) => sum + c.ms, 0);
        console.log(`\n${pass.label}: ${fmt(pass.events)} events in ${fmt(pass.seconds, 1)} s`);
        console.log(`  check ${pass.check?.ok ? 'ok' : 'FAILED'} ${JSON.stringify(pass.check)}`);
        console.log(
          `  read-model calls: ${fmt(totalCallMs / 1000, 1)} s of ${fmt(pass.seconds, 1)} s wall (${fmt((100 * totalCallMs) / 1000 / pass.seconds)}%)`,
        );
        for (const [name, c] of Object.entries(pass.calls ?? {}).sort((a, b) => b[1].ms - a[1].ms)) {
          console.log(
            `    ${name.padEnd(22)} ${String(c.count).padStart(8)} calls  ${fmt(c.ms / 1000, 1).padStart(7)} s  ${fmt((1000 * c.ms) / c.count, 0)} µs/call`,
          );
        }
        console.log(`  events/s per tenth of the replay: ${(pass.deciles ?? []).map((d) => fmt(d)).join(' ')}`);
        console.log(`  ${cpuLine(pass.cpu)}`);
        if (pass.mongoRssMiB) {
          console.log(`  mongo RSS ${fmt(pass.mongoRssMiB.before)} → ${fmt(pass.mongoRssMiB.after)} MiB`);
        }
        if (pass.probe) {
          console.log(
            `  query shapes on the rebuilt targets collection: ${Object.entries(pass.probe)
              .map(([k, v]) => `${k} ${fmt(v)}`)
              .join('; ')}`,
          );
        }
      }
    }
    console.log(
      `\nload average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    if (s.json) writeFileSync(s.json, JSON.stringify(results, null, 2));
  } catch (error) {
    const refused = error instanceof Error && error.message.startsWith('the shared mongo-java-server has only');
    console.error(`bench failed: ${refused ? error.message : ((error as Error).stack ?? String(error))}`);
  } finally {
    await cleanupAll();
    clearTimeout(hardStop);
  }
  process.exit(0);
}

// ---------------------------------------------------------------- child mode: an emulator in its own process

if (process.argv.includes('--serve-emulator')) {
  const emulator = await startEventStoreDbEmulator();
  process.stdout.write(`${JSON.stringify({ connectionString: emulator.connectionString })}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void emulator.stop().finally(() => process.exit(0));
  };
  process.stdin.on('end', stop); // the parent went away
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  await main();
}
