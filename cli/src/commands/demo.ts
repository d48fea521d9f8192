// `litepred demo` (what `npm start` runs): the whole story on one machine. A coordinator on the
// embedded defaults (SQLite file, the starter pool), a local agent for a runtime configuration the
// pool does not have, enrolled as a new device, adapted within a small budget; then accuracy on
// held-out kernels and on whole models measured end to end, and how to pull and use the
// predictors. A second run reuses the device, its adaptation and its end-to-end measurements.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { ARCHITECTURE_ROUNDS, saveIdentity, type Identity } from '@litepred/agent';
import { Coordinator, loadFleetConfig } from '@litepred/coordinator';
import { DEFAULT_PROTOCOL } from '@litepred/profiler';
import { architectureOf, architectureTask } from '@litepred/protocol';
import { buildArchitectureModel, getSpace, SEARCH_SPACES, sampleArchitecture } from '@litepred/spaces';
import { isStalePredictor, type PredictorData } from '@litepred/predictor';
import { formatTable } from '../table.js';
import { describeAdaptation } from './predictors.js';

interface DemoArgs {
  config: string;
  backend: 'ort-node' | 'ort-web';
  threads: number;
  'opt-level': 'disabled' | 'basic' | 'extended' | 'all';
  budget: number;
  target: number;
  'adapt-models': number;
  models: number;
  json: boolean;
}

const CLI = fileURLToPath(new URL('../../bin/litepred.js', import.meta.url));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const say = (line: string) => console.error(line);

interface ModelResult {
  model: string;
  kernels: number;
  measuredMs: number;
  predictedMs: number;
  error: number;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'the whole story on this machine: enrol a new local device, adapt a predictor from the starter pool, check it on whole models',
  builder: (y: Argv) =>
    y
      .option('config', { type: 'string', default: 'fleet.config.json', describe: 'fleet config (database, starter pool)' })
      .option('backend', { choices: ['ort-node', 'ort-web'] as const, default: 'ort-node' as const, describe: "the new device's runtime" })
      .option('threads', { type: 'number', default: 2, describe: "the new device's intra-op threads" })
      .option('opt-level', {
        choices: ['disabled', 'basic', 'extended', 'all'] as const,
        default: 'basic' as const,
        describe: "the new device's graph optimization level",
      })
      .option('budget', { type: 'number', default: 300, describe: 'kernel measurements the adaptation may spend' })
      .option('target', { type: 'number', default: 0.95, describe: 'share of held-out kernels within ±10% that ends it early' })
      .option('adapt-models', {
        type: 'number',
        default: 28,
        describe: 'whole models the adaptation measures end to end for the composition',
      })
      .option('models', {
        type: 'number',
        default: 14,
        describe: 'other whole models to measure end to end and predict, to check the result',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the results as JSON' }) as unknown as Argv<DemoArgs>,
  handler: async (a) => {
    const started = Date.now();
    const config = loadFleetConfig(a.config);
    mkdirSync(dirname(config.database), { recursive: true });
    const runtime = { backend: a.backend, threads: a.threads, graphOptimizationLevel: a['opt-level'] };
    const label = `${runtime.backend}, ${runtime.threads} thread(s), graph optimization ${runtime.graphOptimizationLevel}`;
    const c = await Coordinator.start({
      database: config.database,
      port: 0,
      starterPool: config.starterPool,
      protocol: config.protocol,
      log: (l) => say(`[coordinator] ${l}`),
    });
    const agentState = join(
      dirname(config.database),
      `demo-agent-${runtime.backend}-t${runtime.threads}-${runtime.graphOptimizationLevel}.json`,
    );
    let agent: ReturnType<typeof spawn> | undefined;
    try {
      const pool = c.store.listDevices().filter((d) => d.origin === 'starter-pool');
      say(
        `1. Coordinator on ${c.address.http} (open it for the dashboard while this runs), store ${config.database}. ` +
          `Pool: ${pool.length} runtime configurations of this machine (${pool.map((d) => d.id).join(', ')}), ` +
          `${c.predictors.latestPredictors().filter((p) => pool.some((d) => d.id === p.deviceId)).length} kernel predictors.`,
      );
      const twin = pool.find((d) => JSON.stringify(d.fingerprint.runtime) === JSON.stringify(runtime));
      if (twin)
        say(`   note: ${label} is already in the pool as ${twin.id}; choose another --threads/--opt-level/--backend for a new device`);

      // 2. The new device: an agent process (it keeps its identity, so a second run is the same device).
      // The demo listens on a free port each run; the device it enrolled before is the same device.
      const known = existsSync(agentState) && rekeyIdentity(agentState, c.address.ws);
      const token = known ? undefined : c.store.createEnrolmentToken({ label: 'litepred demo', maxUses: 1, ttlMs: 600_000 }).token;
      agent = spawn(
        process.execPath,
        [
          CLI,
          'agent',
          '--coordinator',
          c.address.ws,
          '--state',
          agentState,
          '--backend',
          runtime.backend,
          '--threads',
          String(runtime.threads),
          '--opt-level',
          runtime.graphOptimizationLevel,
          '--quiet',
          ...(token ? ['--token', token] : []),
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      say(`2. New device: a local agent on ${label} (calibrating its profiler)...`);
      const deviceId = await waitUntil(() => c.onlineDevices()[0], 120_000, 'the local agent to connect');
      say(`   ${known ? 'reconnected' : 'enrolled'} as ${deviceId}`);

      // 3. Adapt, or reuse the adaptation a previous run finished.
      // Predictors trained on an older kernel feature vector cannot predict: adapt again then.
      const stale = c.predictors.latestPredictors(deviceId).some((p) => isStalePredictor(p.data as PredictorData));
      let adaptation = stale
        ? undefined
        : c.predictors.adaptations
            .list({ deviceId })
            .reverse()
            .find((x) => x.state === 'done' && x.options.budget === a.budget && x.options.models === a['adapt-models']);
      if (stale) say("3. The device's predictors were built for an older kernel vocabulary: adapting again");
      if (adaptation) say(`3. Reusing adaptation ${adaptation.id} of ${new Date(adaptation.createdAt).toISOString()} (budget ${a.budget})`);
      else {
        const running = c.predictors.adaptations.list({ deviceId, state: 'running' })[0];
        const id = running?.id ?? c.adaptations.start(deviceId, { budget: a.budget, target: a.target, models: a['adapt-models'] }).id;
        say(
          `3. Adapting ${deviceId} within ${a.budget} kernels (stops early at ${pct(a.target)} of held-out kernels within ±10%), ` +
            `then timing ${a['adapt-models']} whole models for its composition${running ? ' (resuming)' : ''}`,
        );
        let last = '';
        adaptation = await waitUntil(
          () => {
            const x = c.predictors.adaptations.get(id);
            const line = describeAdaptation(x);
            if (line !== last && x.state === 'running') say(`   ${line}`);
            last = line;
            return x.state !== 'running' && x;
          },
          3_600_000,
          'the adaptation',
        );
      }
      if (adaptation.state !== 'done') throw new Error(`adaptation ${adaptation.id} ${adaptation.state}: ${adaptation.error}`);
      const r = adaptation.result as {
        source: string;
        measured: number;
        heldOut: { within10: number; within5: number; mape: number; n: number };
        stoppedBecause: string;
        ranked: { source: string; score: number }[];
        composition: { models: number; heldOut?: { within10: number; n: number } | null } | null;
      };
      say(
        `   source ${r.source} (log-linear residual ${r.ranked[0]!.score.toFixed(3)}; ` +
          `next ${r.ranked[1]?.source ?? '-'} ${r.ranked[1]?.score.toFixed(3) ?? ''}); ${r.measured} kernels measured`,
      );
      say(
        `   held-out kernels (≥10 µs): ${pct(r.heldOut.within10)} of ${r.heldOut.n} within ` +
          `±10%, ${pct(r.heldOut.within5)} within ±5%, MAPE ${pct(r.heldOut.mape)}`,
      );
      if (r.composition?.heldOut)
        say(
          `   composition from ${r.composition.models} whole models: ${pct(r.composition.heldOut.within10)} ` +
            `of ${r.composition.heldOut.n} held-out models within ±10% (fitted on the other two thirds)`,
        );

      // 4. Other whole models, timed end to end on the device, against the prediction.
      const models = await endToEnd(c, deviceId, a.models);
      const within = models.filter((m) => Math.abs(m.error) <= 0.1).length;
      const seconds = Math.round((Date.now() - started) / 1000);
      if (a.json) {
        console.log(
          JSON.stringify(
            { deviceId, runtime, adaptation: { id: adaptation.id, ...r }, models, modelsWithin10: within / models.length, seconds },
            null,
            2,
          ),
        );
      } else {
        console.log(
          `\nWhole models on ${deviceId} (${label}): measured end to end by its agent (fastest of ${ARCHITECTURE_ROUNDS} ` +
            `interleaved rounds) vs predicted\n`,
        );
        console.log(
          formatTable(
            ['model', 'kernels', 'measured ms', 'predicted ms', 'error'],
            models.map((m) => [m.model, m.kernels, m.measuredMs, m.predictedMs, `${m.error >= 0 ? '+' : ''}${pct(m.error)}`]),
          ),
        );
        console.log(
          `\n${within} of ${models.length} models within ±10%; held-out kernels ${pct(r.heldOut.within10)} within ` +
            `±10%; ${r.measured} kernels measured on the new device; ${seconds} s in all.`,
        );
        console.log(
          `\nUse it (the store keeps the device and its predictors):\n` +
            `  npx litepred coordinator start &\n` +
            `  npx litepred predictor list --device ${deviceId}\n` +
            `  npx litepred predictor pull --device ${deviceId} --out predictors/      # ONNX + metadata, for any ONNX Runtime\n` +
            `  npx litepred predict model.onnx --device ${deviceId}                   # or POST the model to ` +
            `/api/devices/${deviceId}/predict\n` +
            `The dashboard (devices, campaigns, predictor accuracy, similarity) and browser enrolment: ` +
            `http://${config.listen.host}:${config.listen.port}/ once the coordinator runs.\n` +
            `From Python with no litepred installed: docs/python.md`,
        );
      }
    } finally {
      agent?.kill('SIGTERM');
      await c.stop();
    }
  },
};

/** Moves the identity a previous run saved (under that run's URL) to this run's URL; false if there is none. */
function rekeyIdentity(stateFile: string, url: string): boolean {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, Identity>;
  const identity = Object.values(state)[0];
  if (!identity) return false;
  saveIdentity(stateFile, `${url.replace(/\/agent$/, '')}/agent`, identity);
  return true;
}

async function waitUntil<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Sampled architectures of every space (seeds no adaptation uses), timed end to end by the agent
 * as a campaign that is only for checking (never fitted on), and predicted. A second run finds the
 * campaign in the store.
 */
async function endToEnd(c: Coordinator, deviceId: string, n: number): Promise<ModelResult[]> {
  const configs = Array.from({ length: n }, (_, i) => architectureTask(SEARCH_SPACES[i % SEARCH_SPACES.length]!.name, 9000 + i));
  const name = `demo check: ${deviceId}, ${n} models`;
  const existing = c.store.findCampaign(name);
  const campaign =
    existing?.state === 'done'
      ? existing
      : c.store.createCampaign({ name, configs, deviceIds: [deviceId], protocol: DEFAULT_PROTOCOL, purpose: 'check' });
  say(
    existing?.state === 'done'
      ? `4. Reusing the end-to-end measurements of ${campaign.id}`
      : `4. The agent times ${n} other whole models end to end (${campaign.id})...`,
  );
  await waitUntil(() => c.store.getCampaign(campaign.id).state !== 'running', 3_600_000, 'the end-to-end measurements');
  const measured = c.store.campaignResults(campaign.id);
  return configs.flatMap((config, i) => {
    const { space, seed } = architectureOf(config);
    const measuredMs = measured[i]?.latencyMs;
    if (!measuredMs) return [];
    const p = c.service.predict(deviceId, buildArchitectureModel(sampleArchitecture(getSpace(space), seed)).bytes);
    return [
      { model: `${space}-${seed}`, kernels: p.kernels.length, measuredMs, predictedMs: p.latencyMs, error: p.latencyMs / measuredMs - 1 },
    ];
  });
}
