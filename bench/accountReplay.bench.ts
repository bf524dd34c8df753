/**
 * How long reading an account stream back takes as its owner's scans pile up: every scan,
 * free ones included, appends CreditsReserved and CreditsSpent to `account-<user>`, and
 * every scan start (ReserveCredits in POST /scans) and every scan that starts running
 * (the credits policy's SpendCredits) replays the whole stream through the account decider.
 *
 *   npx tsx bench/accountReplay.bench.ts              # scans per account: 100,250,500,1000,2000
 *   npx tsx bench/accountReplay.bench.ts 100,1000     # or your own list (each ≤ 5000)
 *
 * In-process, on an in-memory SQLite event store (the embedded adapter); the stream is built
 * with the decider itself (one ReserveCredits and one SpendCredits per scan, enterprise plan,
 * 0 credits: a quick scan). Bounded: stops starting sizes after 120 s.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sqliteEventStore } from '../adapters/sqliteEventStore.js';
import { aggregateState, handleCommand } from '../commands/handleCommand.js';
import { accountDecider, type AccountCommand } from '../domain/accounts/account.decider.js';
import { AccountEvent } from '../domain/accounts/account.events.js';

const sizes = (process.argv[2] ?? '100,250,500,1000,2000')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0 && n <= 5000);
const ids = { uuid: () => randomUUID(), secret: (bytes: number) => randomUUID().slice(0, bytes) };
const started = Date.now();

console.log('scans  events  replay (aggregateState) median  one ReserveCredits (handleCommand)');
for (const scans of sizes) {
  if (Date.now() - started > 120_000) {
    console.log('stopping: 120 s reached');
    break;
  }
  const store = sqliteEventStore({ path: ':memory:' });
  const stream = 'account-bench';
  const now = new Date().toISOString();
  let state = accountDecider.initialState();
  const apply = async (command: AccountCommand) => {
    const events = accountDecider.decide(command, state);
    for (const event of events) state = accountDecider.evolve(state, event);
    if (events.length > 0) {
      await store.appendToStream(
        stream,
        events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data as Record<string, unknown> })),
      );
    }
  };
  await apply({ type: 'OpenAccount', accountId: 'bench', now });
  await apply({ type: 'ChangePlan', plan: 'enterprise', changedBy: 'bench', now });
  for (let i = 0; i < scans; i++) {
    const scanId = randomUUID();
    await apply({ type: 'ReserveCredits', scanId, credits: 0, now });
    await apply({ type: 'SpendCredits', scanId, now });
  }
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    await aggregateState(store, stream, accountDecider, AccountEvent);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const t = performance.now();
  await handleCommand({ store, ids }, stream, accountDecider, AccountEvent, {
    type: 'ReserveCredits',
    scanId: randomUUID(),
    credits: 0,
    now,
  });
  const reserve = performance.now() - t;
  const events = (await store.readStream(stream)).length;
  console.log(
    `${String(scans).padStart(5)}  ${String(events).padStart(6)}  ${times[3]!.toFixed(1).padStart(27)} ms  ${reserve.toFixed(1).padStart(30)} ms`,
  );
  await store.close();
}
