// Reading kernel configs from the command line, JSON, JSONL and CSV files (LitePred's and
// nn-Meter's tables load as they are: extra columns are reported and ignored).
import { readFileSync } from 'node:fs';
import { CONFIG_FIELDS, resolveConfig, type KernelConfig } from '@litepred/kernels';

/** Column names other tables use for our fields. */
const ALIASES: Record<string, string> = { CHANNELS: 'CIN', KS: 'KERNEL_SIZE', KERNEL: 'KERNEL_SIZE', STRIDE: 'STRIDES', TYPE: 'type' };
const KNOWN = new Set<string>(['type', ...CONFIG_FIELDS]);

export interface LoadedConfigs {
  configs: KernelConfig[];
  ignoredColumns: string[];
}

export class ConfigFileError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'ConfigFileError';
  }
}

function normalise(record: Record<string, unknown>, defaultType: string | undefined, ignored: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(record)) {
    const upper = rawKey.trim().toUpperCase();
    const key = rawKey === 'type' ? 'type' : (ALIASES[upper] ?? upper);
    if (!KNOWN.has(key)) {
      ignored.add(rawKey);
      continue;
    }
    if (value === '' || value === undefined || value === null) continue;
    out[key] = key === 'type' ? String(value).trim() : typeof value === 'string' ? Number(value) : value;
  }
  if (out.type === undefined && defaultType) out.type = defaultType;
  return out;
}

/** Loads and validates every config; a bad row fails the whole load with its file and line. */
export function loadConfigFile(file: string, defaultType?: string): LoadedConfigs {
  const text = readFileSync(file, 'utf8');
  const ignored = new Set<string>();
  const records: [number, Record<string, unknown>][] = [];
  if (/\.jsonl$/i.test(file)) {
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        records.push([i + 1, JSON.parse(line)]);
      } catch (e) {
        throw new ConfigFileError(file, i + 1, `not valid JSON: ${(e as Error).message}`);
      }
    });
  } else if (/\.json$/i.test(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ConfigFileError(file, 1, `not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new ConfigFileError(file, 1, 'must be a JSON array of configs');
    parsed.forEach((r, i) => records.push([i + 1, r as Record<string, unknown>]));
  } else if (/\.csv$/i.test(file)) {
    const lines = text.split(/\r?\n/);
    const header = lines[0]!.split(',').map((h) => h.trim());
    lines.slice(1).forEach((line, i) => {
      if (!line.trim()) return;
      const cells = line.split(',');
      if (cells.length !== header.length)
        throw new ConfigFileError(file, i + 2, `has ${cells.length} cells, the header has ${header.length}`);
      records.push([i + 2, Object.fromEntries(header.map((h, j) => [h, cells[j]!.trim()]))]);
    });
  } else {
    throw new ConfigFileError(file, 0, 'unknown file type: use .csv, .json or .jsonl');
  }
  const configs = records.map(([line, r]) => {
    try {
      const config = normalise(r, defaultType, ignored);
      resolveConfig(config);
      return config as KernelConfig;
    } catch (e) {
      throw new ConfigFileError(file, line, (e as Error).message + (defaultType ? '' : ' (no type column? pass --kernel TYPE)'));
    }
  });
  return { configs, ignoredColumns: [...ignored] };
}

/** `--config '{"type":"relu","HW":28,"CIN":8}'` or `--kernel relu --set HW=28 --set CIN=8`. */
export function configFromArgs(kernel: string | undefined, json: string | undefined, sets: readonly string[]): KernelConfig {
  let record: Record<string, unknown> = {};
  if (json) {
    try {
      record = JSON.parse(json);
    } catch (e) {
      throw new Error(`--config: not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  for (const s of sets) {
    const m = /^([A-Za-z_0-9]+)=(-?\d+(\.\d+)?)$/.exec(s);
    if (!m) throw new Error(`--set ${s}: expected FIELD=NUMBER, e.g. --set HW=28`);
    record[m[1]!] = Number(m[2]);
  }
  const unknown = new Set<string>();
  const config = normalise(record, kernel, unknown);
  if (unknown.size > 0) throw new Error(`unknown field(s) ${[...unknown].join(', ')}: fields are ${CONFIG_FIELDS.join(', ')}`);
  if (config.type === undefined) throw new Error('no kernel type: pass --kernel TYPE (see `litepred kernels list`)');
  resolveConfig(config);
  return config as KernelConfig;
}

/**
 * Writes configs (plus extra columns such as COUNT, FREQ) as CSV or JSONL, chosen by the file's
 * extension. CSV columns are the union of the fields present, in CONFIG_FIELDS order.
 */
export function formatConfigs(file: string, rows: readonly Record<string, unknown>[]): string {
  if (/\.jsonl$/i.test(file)) return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  if (!/\.csv$/i.test(file)) throw new ConfigFileError(file, 0, 'unknown file type: use .csv or .jsonl');
  const present = new Set(rows.flatMap((r) => Object.keys(r)));
  const order = ['type', ...CONFIG_FIELDS];
  const columns = [...order.filter((c) => present.has(c)), ...[...present].filter((c) => !order.includes(c))];
  return [columns.join(','), ...rows.map((r) => columns.map((c) => r[c] ?? '').join(','))].join('\n') + '\n';
}
