// The browser agent's platform: the page's WebSocket, localStorage for the identity, and a
// fingerprint from what a page can see of its device.
import type { AgentHost, AgentSocket, Identity, SocketEvents } from '@litepred/agent-core';
import { PROTOCOL_VERSION, subprotocolSecret, subprotocolVersion, type Fingerprint, type RuntimeOptions } from '@litepred/protocol';
import type { RuntimeInfo } from '@litepred/profiler';

/**
 * A browser cannot set headers on a WebSocket, so the protocol version and the credential travel
 * as offered subprotocols (the Sec-WebSocket-Protocol header; never in the URL). It cannot see why
 * an upgrade failed either: after a connection that never opened, ask the coordinator over HTTP
 * whether it would take this credential, so a revoked device or a spent token stops instead of
 * retrying forever.
 */
function openBrowserSocket(url: string, secret: string, events: SocketEvents): AgentSocket {
  const ws = new WebSocket(url, [subprotocolVersion(), subprotocolSecret(secret)]);
  let opened = false;
  ws.onopen = () => {
    opened = true;
    events.open();
  };
  ws.onmessage = (e) => events.message(String(e.data));
  ws.onclose = (e) => {
    if (opened) return events.closed(`connection closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`);
    void checkCredential(secret).then((refusal) => (refusal ? events.refused(refusal) : events.closed('could not connect')));
  };
  return {
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.close(),
    get open() {
      return ws.readyState === WebSocket.OPEN;
    },
  };
}

async function checkCredential(secret: string): Promise<string | undefined> {
  try {
    const res = await fetch('/api/agent-check', {
      headers: { authorization: `Bearer ${secret}`, 'x-litepred-protocol': String(PROTOCOL_VERSION) },
    });
    if (res.status !== 401 && res.status !== 426) return undefined;
    const body = (await res.json()) as { error?: string };
    return `coordinator refused the connection (${res.status}): ${body.error ?? res.statusText}`;
  } catch {
    return undefined; // the coordinator is unreachable: keep retrying
  }
}

/** One identity per runtime configuration: the same browser with 1 and 4 threads is two devices. */
export const identityKey = (runtime: RuntimeOptions) =>
  `litepred.identity:${runtime.threads}:${runtime.graphOptimizationLevel}:${runtime.executionProvider ?? 'wasm'}`;

export function browserHost(runtime: RuntimeOptions, gpuAdapter: string | undefined): AgentHost {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/agent`;
  const key = identityKey(runtime);
  return {
    url,
    openSocket: (secret, events) => openBrowserSocket(url, secret, events),
    loadIdentity: () => {
      const raw = localStorage.getItem(key);
      return raw ? (JSON.parse(raw) as Identity) : undefined;
    },
    saveIdentity: (identity) => localStorage.setItem(key, JSON.stringify(identity)),
    fingerprint: (info) => browserFingerprint(info, gpuAdapter),
  };
}

interface NavigatorExtras {
  deviceMemory?: number;
  userAgentData?: { platform?: string; mobile?: boolean };
}

export function browserFingerprint(info: RuntimeInfo, gpuAdapter: string | undefined): Fingerprint {
  const nav = navigator as Navigator & NavigatorExtras;
  const platform = nav.userAgentData?.platform || navigator.platform || 'unknown';
  return {
    // A page cannot read the CPU model; the user agent and core count are what it has.
    cpuModel: `browser (${platform})`,
    cores: Math.max(1, navigator.hardwareConcurrency || 1),
    arch: 'unknown',
    os: platform,
    // deviceMemory is rounded to a power of two and capped (8 GiB in Chromium); 0 where absent.
    memoryBytes: (nav.deviceMemory ?? 0) * 2 ** 30,
    runtime: {
      backend: 'ort-web',
      threads: info.threads,
      graphOptimizationLevel: info.graphOptimizationLevel,
      executionProvider: info.executionProvider === 'webgpu' ? 'webgpu' : 'wasm',
    },
    runtimeVersion: info.runtimeVersion,
    executionProvider: info.executionProvider,
    userAgent: navigator.userAgent.slice(0, 512),
    gpuAdapter,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
  };
}

/**
 * The WebGPU adapter, described, or undefined where the browser has no WebGPU or only a fallback
 * (software) adapter: timing kernels on a CPU emulation of a GPU would describe no real device.
 */
export async function webGpuAdapter(): Promise<string | undefined> {
  type Adapter = { isFallbackAdapter?: boolean; info?: Record<string, string | boolean> };
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<Adapter | null> } }).gpu;
  if (!gpu) return undefined;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter || adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter) return undefined;
    const i = adapter.info ?? {};
    return [i.vendor, i.architecture, i.description].filter(Boolean).join(' ').slice(0, 512) || 'unnamed adapter';
  } catch {
    return undefined;
  }
}
