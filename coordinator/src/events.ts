// What happens in the fleet, as typed events: who needs to know subscribes instead of polling the
// store or hooking a single callback. The store emits what it commits (campaign.*, adaptation.*);
// the server what only it sees (device.*, predictors.built).
import { EventEmitter } from 'node:events';

export interface FleetEventMap {
  /** Committed: the campaign's last task was measured or failed. */
  'campaign.done': [campaignId: string];
  /** Committed: the campaign was cancelled (by a user, a revoke, or an interrupted creation). */
  'campaign.cancelled': [campaignId: string];
  /** An agent of this device connected (welcomed) or its connection closed. */
  'device.connected': [deviceId: string];
  'device.disconnected': [deviceId: string];
  /** Committed: an adaptation entered a phase (fusion, probe, source, round, models), or finished (done, failed, cancelled). */
  'adaptation.phase': [adaptationId: string, phase: string];
  /** A device's full-data predictors were built and stored. */
  'predictors.built': [deviceId: string];
}

export class FleetEvents extends EventEmitter<FleetEventMap> {
  constructor() {
    super();
    // Every running adaptation listens while it waits for its campaign; there can be many.
    this.setMaxListeners(0);
  }
}
