// The fleet at a glance: devices, campaigns and adaptations as tables with live progress.
import { adminToken, coordinator, type AdaptationRow, type CampaignRow, type DeviceRow, type Fingerprint } from './api.js';
import { ago, duration, h, progressBar, table } from './dom.js';

function runtime(f: Fingerprint): string {
  const ep = f.runtime.executionProvider ?? f.executionProvider;
  return `${f.runtime.backend} ${f.runtimeVersion} · ${ep} · ${f.runtime.threads} thread(s) · opt ${f.runtime.graphOptimizationLevel}`;
}

function machine(f: Fingerprint): string {
  const memory = f.memoryBytes > 0 ? ` · ${(f.memoryBytes / 2 ** 30).toFixed(0)} GiB` : '';
  const gpu = f.gpuAdapter ? ` · GPU ${f.gpuAdapter}` : '';
  const browser = f.userAgent ? ` · ${/(Chrome|Firefox|Safari|Edg)\/[\d.]+/.exec(f.userAgent)?.[0] ?? 'browser'}` : '';
  return `${f.cpuModel} · ${f.cores} cores${memory} · ${f.os}${browser}${gpu}`;
}

export function devicesTable(devices: DeviceRow[]): HTMLElement {
  const rows = devices.map((d) => [
    h(
      'span',
      { class: `dot ${d.online ? 'on' : 'off'}`, title: d.online ? 'online' : `last seen ${ago(d.lastSeenAt)}` },
      d.online ? 'online' : d.origin === 'starter-pool' ? 'pool' : 'offline',
    ),
    h('code', {}, d.id),
    h('span', { title: d.fingerprint.userAgent ?? d.fingerprint.hostname ?? '' }, machine(d.fingerprint)),
    runtime(d.fingerprint),
    d.working.length ? d.working.map((w) => `${w.name} (${w.leased} leased)`).join('; ') : d.online ? 'idle' : '-',
    String(d.measurements),
    d.driftFlagged > 0
      ? h('span', { class: 'flag', title: 'measurements taken while the reference kernel drifted' }, `${d.driftFlagged} drifted`)
      : 'none',
  ]);
  return table(
    ['status', 'device', 'machine', 'runtime', 'current work', 'measurements', 'drift flags'],
    rows,
    'No devices yet: enrol one (admin) or run a local agent.',
  );
}

/** Running campaigns first, then the latest finished ones; starter-pool imports are folded into one line. */
export function campaignsTable(campaigns: CampaignRow[], onChange: () => void): HTMLElement {
  const pool = campaigns.filter((c) => c.purpose === 'starter-pool');
  const active = (c: CampaignRow) => c.state === 'running' || c.state === 'creating';
  const shown = [
    ...campaigns.filter((c) => c.purpose !== 'starter-pool' && active(c)),
    ...campaigns
      .filter((c) => c.purpose !== 'starter-pool' && !active(c))
      .slice(-10)
      .reverse(),
  ];
  const rows = shown.map((c) => {
    const finished = c.done + c.failed + c.cancelled;
    const cancel = adminToken() && c.state === 'running' ? h('button', { class: 'small', 'data-cancel': c.id }, 'cancel') : '';
    if (cancel)
      cancel.addEventListener(
        'click',
        () =>
          void coordinator()
            .call('cancelCampaign', { params: { id: c.id } })
            .then(onChange, (e: Error) => alert(e.message)),
      );
    return [
      h('span', { title: c.id }, c.name),
      c.purpose,
      h('span', { class: `state ${c.state}` }, c.state),
      progressBar(finished, c.total, `${finished} / ${c.total}${c.failed ? ` (${c.failed} failed)` : ''}`),
      c.ratePerS > 0 ? `${c.ratePerS.toFixed(2)}/s` : '-',
      c.etaS !== null ? duration(c.etaS) : c.state === 'running' ? 'waiting for devices' : '-',
      cancel,
    ];
  });
  const el = table(['campaign', 'purpose', 'state', 'progress', 'rate', 'ETA', ''], rows, 'No campaigns yet.');
  if (pool.length === 0) return el;
  return h(
    'div',
    {},
    el,
    h(
      'p',
      { class: 'note' },
      `Starter pool: ${pool.length} devices imported with litepred (${pool.reduce((a, c) => a + c.total, 0)} measurements).`,
    ),
  );
}

export function adaptationsTable(adaptations: AdaptationRow[]): HTMLElement {
  const rows = adaptations
    .slice(-10)
    .reverse()
    .map((a) => {
      const p = a.progress;
      const budget = p.budget ?? a.options.budget;
      const status = a.state === 'running' && !a.online ? 'device offline; waiting' : (p.waiting ?? p.phase ?? '-');
      return [
        h('code', {}, a.deviceId),
        h('span', { class: `state ${a.state}` }, a.state),
        status,
        progressBar(p.measured ?? 0, budget, `${p.measured ?? 0} / ${budget} kernels`),
        p.heldOutWithin10 !== undefined ? `${(p.heldOutWithin10 * 100).toFixed(0)}% within ±10%` : '-',
        h('span', { title: p.why ?? '' }, p.source ?? '-'),
        a.error ?? '',
      ];
    });
  return table(
    ['device', 'state', 'phase', 'kernels', 'held-out accuracy', 'source', 'error'],
    rows,
    'No adaptations yet (litepred adapt --device ID).',
  );
}
