// The one thing an agent keeps: its device identity per coordinator, so a restarted agent
// re-connects as the same device. Everything else lives in the coordinator's store.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Identity } from '@litepred/agent-core';

export type { Identity };

type StateFile = Record<string, Identity>;

function read(file: string): StateFile {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StateFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${file}: not a valid agent state file (${(e as Error).message}); move it away to enrol again`, { cause: e });
  }
}

export function loadIdentity(file: string, coordinator: string): Identity | undefined {
  return read(file)[coordinator];
}

/** Written atomically (temp file + rename), readable by its owner only: it holds a credential. */
export function saveIdentity(file: string, coordinator: string, identity: Identity): void {
  const state = read(file);
  state[coordinator] = identity;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}
