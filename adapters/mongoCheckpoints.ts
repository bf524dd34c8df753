import { attempt, connect } from './mongoReadModels.js';
import type { Checkpoints } from './ports.js';

export interface MongoCheckpointsOptions {
  readonly url: string;
  readonly database: string;
  /**
   * Default `subscription_checkpoints`: apart from the projections' `checkpoints`
   * (mongoReadModels), as in the embedded mode, where the subscribers' checkpoints
   * live beside the events and the projections' beside the read models. A
   * subscriber and a projection may then share a name, and a read-model rebuild
   * never resets the dispatcher.
   */
  readonly collection?: string;
}

interface StoredCheckpoint {
  _id: string;
  position: number;
}

/**
 * Durable positions of the store's subscribers (dispatcher, process managers) in
 * MongoDB, one document `{ _id: name, position }` each, written with a single
 * upsert (atomic on its own; no session or transaction).
 */
export async function mongoCheckpoints(options: MongoCheckpointsOptions): Promise<Checkpoints> {
  const client = await connect(options.url, 'secably-checkpoints');
  const positions = client
    .db(options.database)
    .collection<StoredCheckpoint>(options.collection ?? 'subscription_checkpoints');
  return {
    async get(name) {
      const stored = await attempt(`read the checkpoint of ${name}`, () => positions.findOne({ _id: name }));
      return stored?.position;
    },
    async set(name, position) {
      await attempt(`store the checkpoint of ${name}`, () =>
        positions.updateOne({ _id: name }, { $set: { position } }, { upsert: true }),
      );
    },
    async close() {
      await client.close();
    },
  };
}
