/**
 * Read-only access to a SQLite database file, for the few tests that check the file itself (its schema and
 * pragmas, or what a server process left on disk after it exited or was killed). Everything else goes through
 * the store interfaces (src/store/{lb,monitoring,leader}.ts).
 */
import Database from 'better-sqlite3';

export type SqliteFile = Database.Database;

/** Opens `file` read-only, runs `fn` on it and closes it again. */
export function readSqliteFile<T>(file: string, fn: (db: SqliteFile) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
