// Probe agents for bench:fleet, in their own process: a few agents that ask for one task at a time
// at a slow cadence and time each lease request. The simulated fleet's 1,000 agents share one
// event loop, so at saturation their own loop's lag is part of every latency they time; an idle
// process beside them times what the coordinator itself takes to answer.
// Each probe asks every cadenceMs after its previous lease arrived, acknowledged or not.
// Run by fleet.ts: fork(probe, [wsUrl, token, count, cadenceMs]); sends { deviceIds } once enrolled,
// then { at, ms } per lease (at = Date.now() when the request was sent); 'stop' ends it.
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { encode, PROTOCOL_VERSION, type CoordinatorMessage } from '@litepred/protocol';
import { measurementFor, simulatedFingerprint } from './fleet-fixtures.js';

const [url, token, countArg, cadenceArg] = process.argv.slice(2);
const count = Number(countArg);
const cadenceMs = Number(cadenceArg);
const fingerprint = simulatedFingerprint('probe');

const sockets: WebSocket[] = [];
let stopping = false;

function probe(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = new WebSocket(url!, { headers: { authorization: `Bearer ${token}`, 'x-litepred-protocol': String(PROTOCOL_VERSION) } });
    let askedAt = 0;
    let askedWall = 0;
    const ask = () => {
      if (stopping) return;
      askedAt = performance.now();
      askedWall = Date.now();
      s.send(encode({ type: 'lease.request', capacity: 1 }));
    };
    s.once('open', () => s.send(encode({ type: 'hello', v: PROTOCOL_VERSION, fingerprint, agentVersion: 'bench-probe' })));
    s.on('message', (d) => {
      const m = JSON.parse(d.toString()) as CoordinatorMessage;
      if (m.type === 'welcome') {
        sockets.push(s);
        resolve(m.deviceId);
        setTimeout(ask, Math.random() * cadenceMs);
      } else if (m.type === 'lease') {
        process.send!({ at: askedWall, ms: performance.now() - askedAt });
        s.send(
          JSON.stringify({
            type: 'results',
            items: m.tasks.map((t) => ({ taskId: t.taskId, leaseId: m.leaseId, measurement: measurementFor(t.config, fingerprint) })),
          }),
        );
        // The next request does not wait for the ack: at saturation acks wait for the fleet's
        // backlog of results, and the probe would time a handful of requests per phase.
        setTimeout(ask, cadenceMs);
      } else if (m.type === 'idle') {
        setTimeout(ask, cadenceMs);
      } else if (m.type === 'error') {
        console.error(`probe: coordinator error ${m.code}: ${m.message}`);
      }
    });
    s.once('error', reject);
  });
}

const deviceIds = await Promise.all(Array.from({ length: count }, probe));
process.send!({ deviceIds });
process.on('message', (m) => {
  if (m !== 'stop') return;
  stopping = true;
  for (const s of sockets) s.close();
  process.disconnect();
});
