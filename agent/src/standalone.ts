// Where the standalone agent package is (built by build-standalone.mjs): what the coordinator
// serves at /downloads/ and /install.sh installs. A file of its own so that the coordinator can
// find it without loading the agent.
import { fileURLToPath } from 'node:url';

export const STANDALONE_VERSION = '0.1.0';
export const STANDALONE_NAME = 'litepred-agent';

/** The tarball `npm pack` made of the standalone package: its file name and path. */
export function standaloneTarball(): { name: string; file: string } {
  const name = `${STANDALONE_NAME}-${STANDALONE_VERSION}.tgz`;
  return { name, file: fileURLToPath(new URL(`../standalone/${name}`, import.meta.url)) };
}
