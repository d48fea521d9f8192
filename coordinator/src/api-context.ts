// What the HTTP handlers (api.ts, api-predictors.ts, dashboard-data.ts) may use of the coordinator:
// they depend on this, the Coordinator (server.ts) implements it, and no handler imports the server.
import type { IncomingMessage } from 'node:http';
import type { WireMeasurementProtocol } from '@litepred/protocol';
import type { AdaptationRunner } from './adaptation.js';
import type { PredictorService } from './predictor-service.js';
import type { PredictWorker } from './predict-worker.js';
import type { PredictorStore } from './predictor-store.js';
import type { Store } from './store.js';

/** Who an agent's upgrade request is from. */
export type Peer = { kind: 'device'; deviceId: string } | { kind: 'enrol'; token: string };

export interface ApiContext {
  readonly store: Store;
  readonly predictors: PredictorStore;
  readonly service: PredictorService;
  readonly predictWorker: PredictWorker;
  readonly maxModelNodes: number;
  readonly campaignProtocol: WireMeasurementProtocol;
  readonly adaptations: AdaptationRunner;
  readonly pendingBuilds: number;
  revokeDevice(deviceId: string): void;
  onlineDevices(): string[];
  authenticateAgent(req: IncomingMessage): Peer | { status: number; reason: string; message: string };
}
