import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mongoCheckpoints } from '../../adapters/mongoCheckpoints.js';
import { mongoReadModels } from '../../adapters/mongoReadModels.js';
import { InfrastructureError, type Checkpoints } from '../../adapters/ports.js';
import { requireServers } from '../support/distributedServers.js';

const mongoUrl = requireServers('mongo');
const database = `secably_test_checkpoints_${randomUUID().slice(0, 8)}`;
const unique = (prefix: string): string => `${prefix}-${randomUUID()}`;

describe('mongoCheckpoints without a server', () => {
  it('reports an unreachable server as an InfrastructureError', async () => {
    const url = 'mongodb://127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=300';
    await expect(mongoCheckpoints({ url, database })).rejects.toBeInstanceOf(InfrastructureError);
  });
});

describe.skipIf(mongoUrl === undefined)('mongoCheckpoints against the MongoDB-compatible server', () => {
  const url = mongoUrl!;
  let raw: MongoClient;
  let checkpoints: Checkpoints;

  beforeAll(async () => {
    raw = await MongoClient.connect(url);
  });

  afterAll(async () => {
    await raw?.db(database).dropDatabase();
    await raw?.close();
  });

  beforeEach(async () => {
    checkpoints = await mongoCheckpoints({ url, database });
  });

  afterEach(async () => {
    await checkpoints.close();
  });

  it('stores one position per subscriber, the last one set', async () => {
    const [dispatcher, policy] = [unique('dispatcher'), unique('credits-policy')];
    expect(await checkpoints.get(dispatcher)).toBeUndefined();
    await checkpoints.set(dispatcher, 41);
    await checkpoints.set(dispatcher, 42);
    await checkpoints.set(policy, 0);
    expect(await checkpoints.get(dispatcher)).toBe(42);
    expect(await checkpoints.get(policy)).toBe(0);
  });

  it('survives a restart: another instance reads what one wrote', async () => {
    const name = unique('dispatcher');
    await checkpoints.set(name, 7);
    const restarted = await mongoCheckpoints({ url, database });
    expect(await restarted.get(name)).toBe(7);
    await restarted.set(name, 8);
    expect(await checkpoints.get(name)).toBe(8);
    await restarted.close();
  });

  it('keeps subscribers apart from the projections: a read-model rebuild does not reset them', async () => {
    const name = unique('shared-name');
    const readModels = await mongoReadModels({ url, database });
    await checkpoints.set(name, 99);
    await readModels.setCheckpoint(name, 5);
    await readModels.reset([], [name]);
    expect(await readModels.getCheckpoint(name)).toBeUndefined();
    expect(await checkpoints.get(name)).toBe(99);
    await readModels.close();
    expect(
      await raw
        .db(database)
        .collection('subscription_checkpoints')
        .findOne({ _id: name as never }),
    ).toEqual({
      _id: name,
      position: 99,
    });
  });
});
