import Database from 'better-sqlite3';
import { InfrastructureError, type Checkpoints } from './ports.js';

/** Checkpoints in a table of the embedded SQLite file (beside the events, so they survive a restart). */
export function sqliteCheckpoints(options: { path: string }): Checkpoints {
  let db: Database.Database;
  try {
    db = new Database(options.path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL)');
  } catch (error) {
    throw new InfrastructureError(`cannot open checkpoints in ${options.path}`, { cause: error });
  }
  const select = db.prepare<[string], { position: number }>('SELECT position FROM checkpoints WHERE name = ?');
  const upsert = db.prepare<[string, number]>(
    'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position',
  );
  return {
    async get(name) {
      return select.get(name)?.position;
    },
    async set(name, position) {
      upsert.run(name, position);
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

/** In-memory checkpoints: for tests. */
export function memoryCheckpoints(): Checkpoints {
  const positions = new Map<string, number>();
  return {
    get: async (name) => positions.get(name),
    set: async (name, position) => {
      positions.set(name, position);
    },
    close: async () => {},
  };
}
