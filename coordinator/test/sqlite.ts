// What a store's file holds, read (or, to fake a store of an older schema, changed) through a
// connection of the test's own beside the store's: the store keeps its connection to itself.
import Database from 'better-sqlite3';
import type { Store } from '@litepred/coordinator';
import { connectionOf } from '../src/store/database.js';

const opened = new WeakMap<Store, Database.Database>();

export function sqliteOf(store: Store): Database.Database {
  let db = opened.get(store);
  if (!db?.open) opened.set(store, (db = new Database(connectionOf(store).path)));
  return db;
}
