// Every table of the store has exactly one module that writes it, the one the coordinator README names.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;
const README = new URL('../README.md', import.meta.url).pathname;

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

/** table -> the source files with an INSERT, UPDATE or DELETE on it (the migrations aside). */
function writers(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of sources(SRC).filter((f) => !f.endsWith('schema.ts'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\b(?:INSERT(?: OR [A-Z]+)? INTO|UPDATE|DELETE FROM)\s+([a-z_0-9]+)/g)) {
      const set = out.get(m[1]!) ?? new Set();
      set.add(relative(SRC, file));
      out.set(m[1]!, set);
    }
  }
  return out;
}

/** The README's list: lines "- `table`: `file`" under "Tables and their writers". */
function documented(): Map<string, string> {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('Tables and their writers'));
  return new Map([...section.matchAll(/^- `([a-z_]+)`: `([\w/.-]+)`/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Tables the migrations create (and do not rename away). */
function tables(): string[] {
  const schema = readFileSync(join(SRC, 'schema.ts'), 'utf8');
  return [...new Set([...schema.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_0-9]+)/g)].map((m) => m[1]!))].filter(
    (t) => !/_v\d+$/.test(t),
  );
}

describe('table owners', () => {
  it('each table has exactly one writing module, and it is the one the README lists', () => {
    const w = writers();
    const doc = documented();
    expect([...doc.keys()].sort()).toEqual(tables().sort());
    for (const table of tables()) {
      expect({ table, writers: [...(w.get(table) ?? [])] }).toEqual({ table, writers: [doc.get(table)] });
    }
  });
});
