// What the HTTP handlers (api.ts, api-predictors.ts, dashboard-data.ts) may use of the coordinator:
// they depend on this, the Coordinator (server.ts) implements it, and no handler imports the server.
import type { IncomingMessage } from 'node:http';
import type { WireMeasurementProtocol } from '@litepred/protocol';
import type { AdaptationRunner } from './adaptation.js';
import type { ReadContext } from './dashboard-reads.js';
import type { ReadWorker } from './read-worker.js';

/** Who an agent's upgrade request is from. */
export type Peer = { kind: 'device'; deviceId: string } | { kind: 'enrol'; token: string };

export interface ApiContext extends ReadContext {
  /** Predictions and the dashboard's accuracy and similarity views, off the coordinator's thread. */
  readonly reads: ReadWorker;
  readonly maxModelNodes: number;
  readonly campaignProtocol: WireMeasurementProtocol;
  readonly adaptations: AdaptationRunner;
  readonly pendingBuilds: number;
  revokeDevice(deviceId: string): void;
  onlineDevices(): string[];
  authenticateAgent(req: IncomingMessage): Peer | { status: number; reason: string; message: string };
}
