import { MongoClient, type Collection, type Db, type Filter, type Sort } from 'mongodb';
import {
  InfrastructureError,
  type DocumentFilter,
  type FindOptions,
  type ReadModelCollection,
  type ReadModelDocument,
  type ReadModels,
} from './ports.js';

/** An index an adapter needs, as data: created at start, checked against the live one, asserted by the tests. */
export interface DeclaredIndex {
  readonly collection: string;
  readonly name: string;
  /** Field order matters (equality fields first, then the sort fields). */
  readonly key: Readonly<Record<string, 1 | -1>>;
  /** A TTL index: documents expire this long after the date in the (single) key field. */
  readonly expireAfterSeconds?: number;
}

/** An index the read models need. */
export interface ReadModelIndex extends DeclaredIndex {
  /** The query it serves. */
  readonly serves: string;
}

/**
 * The indexes behind the GET endpoints and the pipeline's queries (equality
 * fields, then the sort, so MongoDB filters and sorts from the index without
 * an in-memory sort). Lookups by id (`profiles`, `api_keys` for API-key
 * authentication, `scans`/`targets` by path id) use the built-in `_id_` index;
 * it cannot be created (and mongo-java-server would add a second `_id_1` index
 * if asked), so it is not listed. The tombstone condition (`_deleted` absent)
 * is checked on the documents the index finds.
 */
export const readModelIndexes: readonly ReadModelIndex[] = [
  {
    collection: 'nuclei_templates',
    name: 'user_created',
    key: { user_id: 1, created_at: -1, uploaded_position: -1 },
    serves: 'GET /nuclei/templates/: { user_id } sorted by created_at, uploaded_position desc',
  },
  {
    collection: 'api_keys',
    name: 'user_created',
    key: { user_id: 1, created_at: -1 },
    serves: 'GET /api-keys/: { user_id } sorted by created_at desc',
  },
  {
    collection: 'targets',
    name: 'user_created',
    key: { user_id: 1, created_at: -1, added_position: -1 },
    serves:
      'GET /targets/ and /websites/: { user_id[, active][, target_type] } sorted by created_at, added_position desc; GET /stats/ count { user_id, active }',
  },
  {
    collection: 'scans',
    name: 'user_created',
    key: { user_id: 1, created_at: -1, _id: -1 },
    serves: 'GET /scans/: { user_id } sorted by created_at, _id desc; GET /stats/ latest scans',
  },
  {
    collection: 'scans',
    name: 'user_status_created',
    key: { user_id: 1, status: 1, created_at: -1, _id: -1 },
    serves: 'GET /scans/?status=',
  },
  {
    collection: 'scans',
    name: 'user_scanner_created',
    key: { user_id: 1, scanner_type: 1, created_at: -1, _id: -1 },
    serves: 'GET /scans/?scanner_type=',
  },
  {
    collection: 'scans',
    name: 'user_target_created',
    key: { user_id: 1, target_id: 1, created_at: -1, _id: -1 },
    serves: 'GET /scans/?target_id=',
  },
  {
    collection: 'credit_ledger',
    name: 'account_position',
    key: { account_id: 1, position: -1 },
    serves: 'GET /account/credits/: { account_id } sorted by position desc, paged',
  },
  {
    collection: 'pending_reservations',
    name: 'pending',
    key: { pending: 1 },
    serves: 'credits policy: { pending: true } (reservations whose scan was not written; not their tombstones)',
  },
  {
    collection: 'scans',
    name: 'target_scanner_status_completed',
    key: { target_id: 1, scanner_type: 1, status: 1, completed_at: -1, _id: -1 },
    serves: 'scans projection: the previous completed scan of a target and scanner (new/fixed findings)',
  },
  {
    collection: 'scan_findings',
    name: 'scan_attempt_risk',
    key: { scan_id: 1, attempt: 1, risk_rank: 1, _id: 1 },
    serves: 'GET /scans/{id}/findings/, /scans/{id}/diff/ and the new/fixed counts: { scan_id[, attempt] } by risk',
  },
  {
    collection: 'findings',
    name: 'user_last_seen',
    key: { user_id: 1, last_seen: -1, _id: 1 },
    serves: 'GET /findings/: { user_id[, status | risk | scanner_type] } sorted by last_seen',
  },
  {
    collection: 'findings',
    name: 'user_status_last_seen',
    key: { user_id: 1, status: 1, last_seen: -1, _id: 1 },
    serves: 'GET /findings/?status=',
  },
  {
    collection: 'findings',
    name: 'user_target_last_seen',
    key: { user_id: 1, target_id: 1, last_seen: -1, _id: 1 },
    serves: 'GET /targets/{id}/findings/ and GET /findings/?target_id=',
  },
  {
    collection: 'findings',
    name: 'target_scanner_status',
    key: { target_id: 1, scanner_type: 1, status: 1 },
    serves: 'findings projection: the unresolved findings a completed scan may fix; a deleted target’s findings',
  },
  {
    collection: 'scans',
    name: 'status',
    key: { status: 1 },
    serves: 'watchdog and dispatcher: { status } and { status: { $in: [...] } } across users',
  },
];

/** Where the projections' checkpoints live: `{ _id: projection, position }`. */
export const CHECKPOINTS_COLLECTION = 'checkpoints';

const DUPLICATE_KEY = 11000;
/** Bounded retries of a guarded write that lost an insert race (see applyAt). */
const MAX_WRITE_ATTEMPTS = 5;

interface StoredDocument {
  _id: string;
  _position?: number;
  _deleted?: true;
  [field: string]: unknown;
}

interface StoredCheckpoint {
  _id: string;
  position: number;
}

/**
 * Read models in MongoDB: one collection per read model, `_id` = our id,
 * `_position` = the global position of the last event applied to the document.
 *
 * **applyAt** is one guarded single-document write, atomic on its own (no
 * transactions or sessions needed, so it also works on mongo-java-server):
 * `replaceOne({ _id, $or: [{ _position: { $exists: false } }, { _position: { $lt: position } }] },
 * { _id, ...doc, _position }, { upsert: true })`. When the document exists but
 * has already seen `position`, the filter matches nothing, the upsert tries to
 * insert a second document with that `_id`, and the server answers E11000
 * (duplicate key): "already applied", false. On a real MongoDB, two upserts of
 * a missing document can also race (both insert, one gets E11000, and the server
 * does not retry an upsert whose filter is more than equalities); so on E11000
 * we read the stored `_position`: if it covers ours the write is skipped,
 * otherwise the other writer was behind us and the write is retried (it now
 * meets an existing document and either wins the guard or is skipped).
 *
 * **Deletes leave a tombstone.** `applyAt(id, position, null)` replaces the
 * document, with the same guard, by `{ _id, _position, _deleted: true }`:
 * the document remembers it was deleted at `position`, so a replayed older
 * event (a projection resuming from a checkpoint behind the delete) cannot
 * bring it back, not even for a moment; a later event at a higher position may
 * (it replaces the tombstone). get, find and count never see tombstones (every
 * query adds `_deleted: { $exists: false }`), and `reset` removes them with
 * the rest, so a rebuild starts clean. Tombstones cost one small document per
 * deleted read model (deleted targets, …) until the next rebuild.
 * `_deleted` is therefore reserved: a document may not carry it.
 *
 * **Filters** are what the port allows and MongoDB, mongo-java-server and the
 * memory adapter evaluate the same way: top-level equality (null matches null
 * or missing, an array field matches an element or an equal array, embedded
 * documents compare field by field in order) and `{ $in: [...] }`. Anything
 * else (`$gt`, `$or`, dotted paths, regular expressions) is refused with an
 * error instead of being passed through. Sort is MongoDB's (binary string
 * order, null and missing first ascending); ties come back in no guaranteed
 * order, so callers that page sort by a unique last field.
 *
 * Documents come back as plain objects (the driver's deserialisation, buffers
 * promoted to Node's Buffer); our writes only store JSON-like values, dates and
 * numbers, so no BSON class can appear. Server and network failures surface
 * as InfrastructureError.
 */
export async function mongoReadModels(options: { url: string; database: string }): Promise<ReadModels> {
  const client = await connect(options.url, 'secably-read-models');
  const db = client.db(options.database);
  try {
    await ensureIndexes(db, readModelIndexes);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw infrastructure(`cannot create the read-model indexes in ${options.database}`, error);
  }
  const checkpoints = db.collection<StoredCheckpoint>(CHECKPOINTS_COLLECTION);
  const handles = new Map<string, ReadModelCollection>();

  function collection<T extends ReadModelDocument = ReadModelDocument>(name: string): ReadModelCollection<T> {
    let handle = handles.get(name);
    if (handle === undefined) {
      checkCollectionName(name);
      handle = collectionOf(db.collection<StoredDocument>(name));
      handles.set(name, handle);
    }
    return handle as unknown as ReadModelCollection<T>;
  }

  return {
    collection,
    async getCheckpoint(projection) {
      const stored = await attempt(`read the checkpoint of ${projection}`, () =>
        checkpoints.findOne({ _id: projection }),
      );
      return stored?.position;
    },
    async setCheckpoint(projection, position) {
      await attempt(`store the checkpoint of ${projection}`, () =>
        checkpoints.updateOne({ _id: projection }, { $set: { position } }, { upsert: true }),
      );
    },
    async reset(collectionNames, projections) {
      for (const name of collectionNames) {
        checkCollectionName(name);
        // deleteMany, not drop: the collection keeps its indexes.
        await attempt(`reset ${name}`, () => db.collection(name).deleteMany({}));
      }
      if (projections.length > 0) {
        await attempt('reset the checkpoints', () => checkpoints.deleteMany({ _id: { $in: [...projections] } }));
      }
    },
    async close() {
      await client.close();
    },
  };
}

/** A live index that is not what the code declares. */
export class IndexMismatchError extends InfrastructureError {
  constructor(
    readonly database: string,
    readonly mismatches: readonly string[],
  ) {
    super(
      `MongoDB indexes in ${database} differ from the declared ones:\n  ${mismatches.join('\n  ')}\n` +
        'Drop the indexes named (db.<collection>.dropIndex("<name>")); they are created again, as declared, at the next start.',
    );
  }
}

/** What a live index is, as listIndexes reports it. */
interface LiveIndex {
  readonly name: string;
  readonly key: Record<string, unknown>;
  readonly expireAfterSeconds?: number;
}

const keyText = (key: Readonly<Record<string, unknown>>) =>
  Object.entries(key)
    .map(([field, order]) => `${field}:${Number(order)}`)
    .join(',');

/** How a live index differs from a declared one with its name or key, if it does. */
function difference(live: LiveIndex, declared: DeclaredIndex): string | undefined {
  const where = `${declared.collection}.${live.name}`;
  if (live.name !== declared.name) {
    return `${where}: has the key {${keyText(live.key)}} of the declared index "${declared.name}" under another name`;
  }
  if (keyText(live.key) !== keyText(declared.key)) {
    return `${where}: key {${keyText(live.key)}}, declared {${keyText(declared.key)}}`;
  }
  const liveTtl = live.expireAfterSeconds === undefined ? undefined : Number(live.expireAfterSeconds);
  if (liveTtl !== declared.expireAfterSeconds) {
    return `${where}: TTL ${liveTtl ?? 'none'}, declared ${declared.expireAfterSeconds ?? 'none'}`;
  }
  return undefined;
}

async function liveIndexes(db: Db, collection: string): Promise<LiveIndex[]> {
  try {
    return (await db.collection(collection).listIndexes().toArray()) as unknown as LiveIndex[];
  } catch (error) {
    if ((error as { code?: unknown }).code === 26) return []; // NamespaceNotFound: no collection yet
    throw error;
  }
}

/**
 * Makes the live indexes what `declared` says, or fails loudly. Each declared index
 * is compared with the live ones by name and by key: a live index with its name
 * but another key or TTL, or with its key under another name, is a mismatch —
 * MongoDB refuses to change such an index (and mongo-java-server silently adds a
 * second one), so starting anyway would leave queries on an index that is not the
 * one the code relies on. Missing indexes are created, then everything is checked
 * once more. Indexes not declared at all are left alone.
 */
export async function ensureIndexes(db: Db, declared: readonly DeclaredIndex[]): Promise<void> {
  const byCollection = new Map<string, DeclaredIndex[]>();
  for (const index of declared) {
    byCollection.set(index.collection, [...(byCollection.get(index.collection) ?? []), index]);
  }
  const check = async (): Promise<{ mismatches: string[]; missing: DeclaredIndex[] }> => {
    const mismatches: string[] = [];
    const missing: DeclaredIndex[] = [];
    for (const [collection, indexes] of byCollection) {
      const live = await liveIndexes(db, collection);
      for (const index of indexes) {
        const related = live.filter((l) => l.name === index.name || keyText(l.key) === keyText(index.key));
        if (related.length === 0) missing.push(index);
        for (const l of related) {
          const why = difference(l, index);
          if (why) mismatches.push(why);
        }
      }
    }
    return { mismatches, missing };
  };
  const before = await check();
  if (before.mismatches.length > 0) throw new IndexMismatchError(db.databaseName, before.mismatches);
  for (const [collection] of byCollection) {
    const toCreate = before.missing.filter((index) => index.collection === collection);
    if (toCreate.length === 0) continue;
    await db.collection(collection).createIndexes(
      toCreate.map((index) => ({
        key: { ...index.key },
        name: index.name,
        ...(index.expireAfterSeconds !== undefined ? { expireAfterSeconds: index.expireAfterSeconds } : {}),
      })),
    );
  }
  const after = await check();
  const problems = [...after.mismatches, ...after.missing.map((index) => `${index.collection}.${index.name}: missing`)];
  if (problems.length > 0) throw new IndexMismatchError(db.databaseName, problems);
}

function collectionOf(documents: Collection<StoredDocument>): ReadModelCollection {
  const label = documents.collectionName;
  return {
    async get(id) {
      // By `_id` alone, tombstones dropped here: mongo-java-server uses its _id index only
      // for a filter on `_id` alone (MongoDB uses it either way).
      const doc = await attempt(`read ${label}/${id}`, () => documents.findOne({ _id: id }));
      return doc && doc._deleted === undefined ? (doc as ReadModelDocument) : null;
    },
    async find(filter, options: FindOptions = {}) {
      const query = toQuery(filter);
      const sort = Object.entries(options.sort ?? {});
      return attempt(`find in ${label}`, () => {
        let cursor = documents.find(query);
        if (sort.length > 0) cursor = cursor.sort(sort as Sort);
        if (options.skip !== undefined && options.skip > 0) cursor = cursor.skip(options.skip);
        // As in the memory adapter, a limit of 0 means no limit (MongoDB's meaning too).
        if (options.limit !== undefined && options.limit > 0) cursor = cursor.limit(options.limit);
        return cursor.toArray() as Promise<ReadModelDocument[]>;
      });
    },
    async count(filter) {
      const query = toQuery(filter);
      return attempt(`count in ${label}`, () => documents.countDocuments(query));
    },
    async applyAt(id, position, doc) {
      const replacement = toStored(id, position, doc);
      const guard: Filter<StoredDocument> = {
        _id: id,
        $or: [{ _position: { $exists: false } }, { _position: { $lt: position } }],
      };
      for (let attemptNumber = 1; ; attemptNumber++) {
        try {
          await documents.replaceOne(guard, replacement, { upsert: true });
          return true;
        } catch (error) {
          if (!isDuplicateKey(error)) throw infrastructure(`write ${label}/${id} at ${position}`, error);
        }
        // Either the stored document has seen `position` (skip) or we lost an insert race to an older one.
        const stored = await attempt(`read ${label}/${id}`, () =>
          documents.findOne({ _id: id }, { projection: { _position: 1 } }),
        );
        if (stored?._position !== undefined && stored._position >= position) return false;
        if (attemptNumber >= MAX_WRITE_ATTEMPTS) {
          throw new InfrastructureError(`write ${label}/${id} at ${position}: still conflicting after retries`);
        }
      }
    },
  };
}

/** Added to every read: tombstones are invisible. */
const LIVE = { _deleted: { $exists: false } } as const;

function toStored(id: string, position: number, doc: Record<string, unknown> | null): StoredDocument {
  if (doc === null) return { _id: id, _position: position, _deleted: true };
  if (Object.hasOwn(doc, '_deleted')) {
    throw new Error(`read models: _deleted is reserved for tombstones (document ${id})`);
  }
  // `doc` may carry the _id/_position it was read with: ours win, _id stays first.
  const { _id: _staleId, _position: _stalePosition, ...fields } = doc;
  return { _id: id, ...fields, _position: position };
}

/** The port's filter as a MongoDB query, refusing what not every adapter does the same way. */
function toQuery(filter: DocumentFilter | undefined): Filter<StoredDocument> {
  const query: Record<string, unknown> = {};
  for (const [field, condition] of Object.entries(filter ?? {})) {
    if (field.startsWith('$') || field.includes('.') || field === '_deleted') {
      throw new Error(`read models: unsupported filter field ${JSON.stringify(field)} (top-level fields only)`);
    }
    if (isPlainObject(condition) && Object.keys(condition).some((key) => key.startsWith('$'))) {
      const values = condition.$in;
      if (Object.keys(condition).length !== 1 || !Array.isArray(values)) {
        throw new Error(
          `read models: unsupported filter on ${field}: ${JSON.stringify(condition)} (only { $in: [...] })`,
        );
      }
      query[field] = { $in: values.map((value) => toEqualityValue(field, value)) };
    } else {
      query[field] = toEqualityValue(field, condition);
    }
  }
  return { ...query, ...LIVE };
}

function toEqualityValue(field: string, value: unknown): unknown {
  // The memory adapter matches undefined like null (null or missing); the driver would drop it.
  if (value === undefined) return null;
  if (value instanceof RegExp) throw new Error(`read models: unsupported filter on ${field}: a regular expression`);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function checkCollectionName(name: string): void {
  if (name === CHECKPOINTS_COLLECTION) throw new Error(`read models: "${name}" is reserved for the checkpoints`);
  if (name.length === 0 || name.includes('$') || name.includes('\0') || name.startsWith('system.')) {
    throw new Error(`read models: invalid collection name ${JSON.stringify(name)}`);
  }
}

// ---------------------------------------------------------------- shared by the mongo adapters

/**
 * Connects (the driver checks the server before resolving). Writes drop
 * undefined fields (as JSON does) instead of storing null; binary values come
 * back as Buffer, not as the driver's Binary.
 */
export async function connect(url: string, appName: string): Promise<MongoClient> {
  const client = new MongoClient(url, { appName, ignoreUndefined: true, promoteBuffers: true });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.close().catch(() => undefined);
    throw infrastructure(`cannot connect to MongoDB at ${redact(url)}`, error);
  }
}

export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/** Runs a driver call, turning its failures into InfrastructureError. */
export async function attempt<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw infrastructure(`MongoDB: cannot ${what}`, error);
  }
}

function infrastructure(message: string, cause: unknown): InfrastructureError {
  if (cause instanceof IndexMismatchError) return cause;
  if (cause instanceof InfrastructureError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new InfrastructureError(`${message}: ${reason}`, { cause });
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
