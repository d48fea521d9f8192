// The browser agent page: /agent?token=lpe_... enrols this browser as a device and measures the
// leases it is given with onnxruntime-web, through the same AgentSession as the Node agent.
// Options in the query: threads (default: up to 4 where the page is cross-origin isolated, else 1),
// opt (graph optimization level, default all), ep (wasm, webgpu, or auto: WebGPU where there is an
// adapter), calibrate=0 (skip the profiler's start-up calibration: tests).
import { AgentSession, type SessionStatus } from '@litepred/agent-core';
import { KernelProfiler, setOrtWebAssets } from '@litepred/profiler';
import type { RuntimeOptions } from '@litepred/protocol';
import { browserHost, webGpuAdapter } from './host.js';

const AGENT_VERSION = '0.1.0-browser';
const LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

const $ = (id: string) => document.getElementById(id)!;
const params = new URLSearchParams(location.search);

function log(line: string): void {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()}  ${line}`;
  $('log').prepend(li);
  while ($('log').childElementCount > 200) $('log').lastElementChild!.remove();
}

function show(status: SessionStatus): void {
  $('state').textContent = status.state + (status.message ? `: ${status.message}` : '');
  $('state').dataset.state = status.state;
  $('device').textContent = status.deviceId ?? '(not enrolled yet)';
  $('measured').textContent = String(status.measured);
  $('acknowledged').textContent = String(status.acknowledged);
  $('last').textContent = status.lastKernel ?? '-';
}

function runtimeFromQuery(gpu: string | undefined): RuntimeOptions {
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = Number(params.get('threads') ?? (isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1));
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw new Error(`threads: a whole number from 1 to 64, not '${params.get('threads')}'`);
  if (threads > 1 && !isolated) {
    throw new Error(
      window.isSecureContext
        ? 'threads: more than 1 needs a cross-origin isolated page (the coordinator serves it so; is a proxy stripping ' +
            'the COOP/COEP headers?)'
        : 'threads: more than 1 needs a secure context (HTTPS, or localhost), and this page came over plain HTTP: drop ' +
            'threads for 1, or serve the coordinator through HTTPS',
    );
  }
  const opt = params.get('opt') ?? 'all';
  if (!(LEVELS as readonly string[]).includes(opt)) throw new Error(`opt: one of ${LEVELS.join(', ')}, not '${opt}'`);
  const ep = params.get('ep') ?? 'auto';
  if (!['auto', 'wasm', 'webgpu'].includes(ep)) throw new Error(`ep: auto, wasm or webgpu, not '${ep}'`);
  if (ep === 'webgpu' && !gpu) throw new Error('ep: webgpu asked for, but this browser has no WebGPU adapter');
  return {
    backend: 'ort-web',
    threads,
    graphOptimizationLevel: opt as RuntimeOptions['graphOptimizationLevel'],
    executionProvider: ep === 'wasm' || !gpu ? 'wasm' : 'webgpu',
  };
}

/** A phone that dims and locks mid-campaign stops measuring; ask it not to (secure contexts only). */
async function keepScreenOn(): Promise<void> {
  const wakeLock = (navigator as Navigator & { wakeLock?: { request(type: 'screen'): Promise<unknown> } }).wakeLock;
  if (!wakeLock) return;
  const request = () => wakeLock.request('screen').catch(() => undefined);
  await request();
  // The lock is released whenever the page is hidden; take it again when it comes back.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void request();
  });
}

async function main(): Promise<void> {
  setOrtWebAssets('/ort/');
  const gpu = await webGpuAdapter();
  const runtime = runtimeFromQuery(gpu);
  $('runtime').textContent =
    `onnxruntime-web, ${runtime.executionProvider}, ${runtime.threads} thread(s), optimization ${runtime.graphOptimizationLevel}; ` +
    `cross-origin isolated: ${globalThis.crossOriginIsolated === true ? 'yes' : 'no'}; WebGPU: ${gpu ?? 'none'}`;
  log('calibrating the profiler on this device...');
  const profiler = await KernelProfiler.create({ runtime, ...(params.get('calibrate') === '0' ? { coldWeightMsPerByte: 0 } : {}) });
  const token = params.get('token') ?? undefined;
  const session = new AgentSession(browserHost(runtime, gpu), profiler, {
    token,
    agentVersion: AGENT_VERSION,
    log,
    onStatus: show,
    // A hidden tab's timers and CPU are throttled: its measurements would describe the throttling.
    pausedBecause: () =>
      document.visibilityState === 'hidden' ? 'this page is in the background; bring it to the front to measure' : undefined,
  });
  void keepScreenOn();
  // The token has done its job once enrolled: keep it out of the address bar and of bookmarks.
  if (token) {
    const url = new URL(location.href);
    url.searchParams.delete('token');
    history.replaceState(null, '', url);
  }
  session.done.catch((error: Error) => log(`stopped: ${error.message}`));
  session.start();
}

main().catch((error: Error) => {
  $('state').textContent = `error: ${error.message}`;
  $('state').dataset.state = 'refused';
  log(error.message);
});
