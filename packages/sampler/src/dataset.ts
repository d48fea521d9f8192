// Weighted config sets: the distinct feature vectors of a family with how often each occurs,
// from the search spaces or from a reference table.
import { readFileSync } from 'node:fs';
import { resolveConfig } from '@litepred/kernels';
import { kernelDistribution, SEARCH_SPACES, type SearchSpace } from '@litepred/spaces';
import { familyOf, FAMILIES, type FamilyName } from './families.js';

export interface WeightedRows {
  family: FamilyName;
  rows: number[][];
  weights: number[];
}

function merge(family: FamilyName, entries: Iterable<[number[], number]>): WeightedRows {
  const byKey = new Map<string, { row: number[]; weight: number }>();
  for (const [row, weight] of entries) {
    const key = row.join(',');
    const e = byKey.get(key) ?? { row, weight: 0 };
    e.weight += weight;
    byKey.set(key, e);
  }
  const list = [...byKey.values()];
  return { family, rows: list.map((e) => e.row), weights: list.map((e) => e.weight) };
}

/** Every family's configs in `n` architectures per space, sampled from `seed`. */
export function spaceConfigs(n: number, seed: number, spaces: readonly SearchSpace[] = SEARCH_SPACES): Map<FamilyName, WeightedRows> {
  const perFamily = new Map<FamilyName, [number[], number][]>();
  for (const [type, entries] of kernelDistribution(spaces, n, seed)) {
    const family = familyOf(type);
    const list = perFamily.get(family.name) ?? [];
    perFamily.set(family.name, list);
    for (const e of entries) list.push([family.row(resolveConfig(e.config)), e.count]);
  }
  return new Map([...perFamily].map(([name, list]) => [name, merge(name, list)]));
}

/** Rows of a CSV file as records of strings (the reference tables; plain commas, no quoting). */
export function readCsv(file: string | URL): Record<string, string>[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const cols = header!.split(',').map((c) => c.trim());
  return lines.filter((l) => l.trim()).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v.trim()])));
}

/**
 * One of LitePred's VAE tables, as weighted rows of a family: `split` picks its train or test
 * rows (CAT column), weighted by FREQ; CHANNELS is read as CIN.
 */
export function litepredTable(file: string | URL, family: FamilyName, split?: 'train' | 'test'): WeightedRows {
  const feats = FAMILIES[family].features;
  const records = readCsv(file).filter((r) => !split || r.CAT === split);
  return merge(
    family,
    records.map((r) => [
      feats.map((feat) => Math.round(Number(r[feat.name] ?? (feat.name === 'CIN' ? r.CHANNELS : undefined)))),
      Number(r.FREQ ?? r.SCALED_FREQ ?? 1),
    ]),
  );
}
