import type { DocumentFilter, FindOptions, ReadModelCollection, ReadModelDocument, ReadModels } from './ports.js';

/**
 * Read models as in-process documents: one Map per collection, rebuilt by replay
 * at start. Filters and sort follow MongoDB's rules for the subset the port
 * allows, so that behaviour does not depend on the mode. Documents are copied
 * (structuredClone) on the way in and out: callers never share stored state.
 */
export function memoryReadModels(): ReadModels {
  const collections = new Map<string, Map<string, ReadModelDocument>>();
  const checkpoints = new Map<string, number>();

  function documentsOf(name: string): Map<string, ReadModelDocument> {
    let documents = collections.get(name);
    if (documents === undefined) {
      documents = new Map();
      collections.set(name, documents);
    }
    return documents;
  }

  function collection<T extends ReadModelDocument = ReadModelDocument>(name: string): ReadModelCollection<T> {
    const documents = documentsOf(name);
    const matching = (filter: DocumentFilter | undefined): ReadModelDocument[] => {
      const conditions = Object.entries(filter ?? {}).map(([field, condition]) => toPredicate(field, condition));
      const found: ReadModelDocument[] = [];
      for (const doc of documents.values()) if (conditions.every((matches) => matches(doc))) found.push(doc);
      return found;
    };
    return {
      async get(id) {
        const doc = documents.get(id);
        return doc === undefined ? null : (structuredClone(doc) as T);
      },
      async find(filter, options: FindOptions = {}) {
        const found = matching(filter);
        const sortFields = Object.entries(options.sort ?? {});
        if (sortFields.length > 0) found.sort((a, b) => compareBy(sortFields, a, b)); // stable
        const skip = options.skip ?? 0;
        // As in MongoDB, a limit of 0 means no limit.
        const end = options.limit === undefined || options.limit === 0 ? undefined : skip + options.limit;
        return found.slice(skip, end).map((doc) => structuredClone(doc) as T);
      },
      async count(filter) {
        return filter === undefined ? documents.size : matching(filter).length;
      },
      async applyAt(id, position, doc) {
        const stored = documents.get(id);
        if (stored?._position !== undefined && stored._position >= position) return false;
        // A delete leaves no trace: replaying older events may recreate the
        // document, but the replay then reaches the delete again (same as MongoDB).
        if (doc === null) documents.delete(id);
        // `doc` may carry the _id/_position it was read with: ours win, _id stays first.
        else documents.set(id, Object.assign({ _id: id }, structuredClone(doc), { _id: id, _position: position }));
        return true;
      },
    };
  }

  return {
    collection,
    async getCheckpoint(projection) {
      return checkpoints.get(projection);
    },
    async setCheckpoint(projection, position) {
      checkpoints.set(projection, position);
    },
    async reset(collectionNames, projections) {
      for (const name of collectionNames) collections.get(name)?.clear();
      for (const projection of projections) checkpoints.delete(projection);
    },
    async close() {},
  };
}

type Predicate = (doc: ReadModelDocument) => boolean;

function toPredicate(field: string, condition: unknown): Predicate {
  if (isPlainObject(condition) && Object.keys(condition).some((key) => key.startsWith('$'))) {
    const values = condition.$in;
    if (Object.keys(condition).length !== 1 || !Array.isArray(values)) {
      throw new Error(
        `read models: unsupported filter on ${field}: ${JSON.stringify(condition)} (only { $in: [...] })`,
      );
    }
    return (doc) => values.some((value) => matchesValue(doc[field], value));
  }
  return (doc) => matchesValue(doc[field], condition);
}

/**
 * MongoDB equality: null matches null or a missing field; an array field
 * matches a value it contains or an equal array; objects compare deeply.
 */
function matchesValue(actual: unknown, wanted: unknown): boolean {
  if (wanted === null || wanted === undefined) return actual === null || actual === undefined;
  if (Array.isArray(actual) && !Array.isArray(wanted)) return actual.some((item) => deepEqual(item, wanted));
  return deepEqual(actual, wanted);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    // Field order matters for embedded documents in MongoDB too.
    const keys = Object.keys(a);
    const otherKeys = Object.keys(b);
    return (
      keys.length === otherKeys.length && keys.every((key, i) => key === otherKeys[i] && deepEqual(a[key], b[key]))
    );
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function compareBy(fields: readonly [string, 1 | -1][], a: ReadModelDocument, b: ReadModelDocument): number {
  for (const [field, direction] of fields) {
    const order = compareValues(a[field], b[field]);
    if (order !== 0) return order * direction;
  }
  return 0;
}

/** MongoDB's order across types: null/missing, numbers, strings, objects, arrays, booleans, dates. */
function typeRank(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number' || typeof value === 'bigint') return 1;
  if (typeof value === 'string') return 2;
  if (Array.isArray(value)) return 4;
  if (typeof value === 'boolean') return 5;
  if (value instanceof Date) return 6;
  return 3;
}

function compareValues(a: unknown, b: unknown): number {
  const rankA = typeRank(a);
  const rankB = typeRank(b);
  if (rankA !== rankB) return rankA - rankB;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (rankA === 3 || rankA === 4) return compareValues(JSON.stringify(a), JSON.stringify(b)); // rare: documents or arrays
  // Numbers numerically, strings by code unit (binary, like MongoDB's default), booleans false < true.
  const x = a as number | string | boolean;
  const y = b as number | string | boolean;
  return x < y ? -1 : x > y ? 1 : 0;
}
