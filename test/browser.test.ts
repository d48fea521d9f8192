// The browser agent and the dashboard in headless Chromium (Debian's package, driven by
// playwright-core), against a real coordinator on a loopback port with a real SQLite file: the
// page enrols from the dashboard's link, measures a campaign with onnxruntime-web in the page, and
// the results land in the store; the dashboard shows the device and the campaign's progress.
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '@litepred/coordinator';
import { CHROMIUM_ARGS, chromiumExecutable, MISSING_CHROMIUM } from '../scripts/chromium.mjs';
import { client, FAST_PROTOCOL, tempDir, waitFor } from './helpers/fleet.js';

let browser: Browser;
const coordinators: Coordinator[] = [];

beforeAll(async () => {
  const executablePath = chromiumExecutable();
  if (!executablePath) throw new Error(MISSING_CHROMIUM);
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await Promise.all(coordinators.splice(0).map((c) => c.stop()));
});

async function startCoordinator(database: string, port = 0): Promise<Coordinator> {
  const c = await Coordinator.start({ database, port, heartbeatMs: 500 });
  coordinators.push(c);
  return c;
}

/** A page whose errors fail the test rather than vanish. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

const CONFIGS = [
  { type: 'conv-bn-relu', HW: 14, CIN: 16, COUT: 32, KERNEL_SIZE: 3, STRIDES: 1 },
  { type: 'dwconv-bn-relu', HW: 28, CIN: 32, KERNEL_SIZE: 3, STRIDES: 2 },
  { type: 'fc', CIN: 128, COUT: 64 },
  { type: 'add', HW: 14, CIN: 16 },
  { type: 'relu', HW: 8, CIN: 8 },
];

describe('browser agent and dashboard', () => {
  it('enrols a browser from the dashboard link, measures a campaign in the page, and the dashboard shows both', async () => {
    const c = await startCoordinator(join(tempDir(), 'browser.sqlite'));
    const base = c.address.http;

    // The dashboard is read-only until the admin token unlocks it; a wrong token is refused.
    const { page: dash, errors: dashErrors } = await openPage();
    await dash.goto(base);
    await dash.waitForSelector('body[data-loaded=true]');
    expect(await dash.locator('#enrol-browser').count()).toBe(0);
    await dash.fill('#admin-token', 'lpa_wrong');
    await dash.click('text=unlock');
    await expect.poll(() => dash.locator('.admin .error').textContent()).toContain('admin token');
    await dash.fill('#admin-token', c.newAdminToken!);
    await dash.click('text=unlock');
    // A board: the one line that installs the agent from this coordinator (test/agent-install.test.ts runs it).
    await dash.click('#enrol-board');
    expect(await (await dash.waitForSelector('#enrol-line')).textContent()).toMatch(
      new RegExp(`^curl -fsSL ${base}/install\\.sh \\| sh -s -- --token lpe_[\\w-]+$`),
    );
    await dash.selectOption('#enrol-threads', '1');
    await dash.click('#enrol-browser');
    const link = await (await dash.waitForSelector('#enrol-link')).getAttribute('href');
    expect(link).toMatch(/\/agent\?token=lpe_[^&]+&threads=1$/);
    expect(await dash.locator('.enrol canvas').count()).toBe(1); // the QR code

    // The agent page, opened from the link (without the start-up calibration, to be quick).
    const { page: agentPage, errors: agentErrors } = await openPage();
    await agentPage.goto(`${link}&calibrate=0`);
    const device = await waitFor('the browser enrolled', () => c.store.listDevices().find((d) => d.origin === 'agent'), 60_000);
    const f = device.fingerprint;
    expect(f.runtime).toMatchObject({ backend: 'ort-web', threads: 1, graphOptimizationLevel: 'all' });
    expect(f.userAgent).toMatch(/Chrome/);
    expect(f.crossOriginIsolated).toBe(true);
    expect(f.executionProvider).toBe('wasm');
    expect(f.cores).toBeGreaterThan(0);
    await expect.poll(() => agentPage.locator('#device').textContent()).toBe(device.id);
    expect(agentPage.url()).not.toContain('token='); // the spent token leaves the address bar

    const campaign = await client(base, c.newAdminToken).call('createCampaign', {
      body: { name: 'browser kernels', configs: CONFIGS, deviceIds: [device.id], protocol: FAST_PROTOCOL },
    });
    await waitFor('the campaign done', () => c.store.getCampaign(campaign.id).state === 'done', 90_000);
    const rows = c.store.measurements({ campaignId: campaign.id });
    expect(rows).toHaveLength(CONFIGS.length);
    expect(new Set(rows.map((r) => r.kernelType))).toEqual(new Set(CONFIGS.map((k) => k.type)));
    for (const r of rows) {
      const m = r.measurement as {
        runtime: { backend: string; executionProvider: string; threads: number };
        method: string;
        kernel: { n: number };
      };
      expect(m.runtime).toMatchObject({ backend: 'ort-web', executionProvider: 'wasm', threads: 1 });
      expect(m.method).toBe('paired-null-difference');
      expect(m.kernel.n).toBeGreaterThanOrEqual(FAST_PROTOCOL.minRuns);
      expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    }
    // The conv does real work: it must take longer than the ReLU on 512 elements.
    const latency = (type: string) => rows.find((r) => r.kernelType === type)!.latencyMs;
    expect(latency('conv-bn-relu')).toBeGreaterThan(latency('relu'));
    await expect.poll(() => agentPage.locator('#acknowledged').textContent()).toBe(String(CONFIGS.length));

    // The dashboard (refreshing every 2 s) shows the device online with its work done, and the campaign complete.
    const deviceRow = dash.locator('#devices tr', { hasText: device.id });
    await expect.poll(() => deviceRow.textContent(), { timeout: 10_000 }).toContain('online');
    expect(await deviceRow.textContent()).toContain('ort-web');
    const campaignRow = dash.locator('#campaigns tr', { hasText: 'browser kernels' });
    await expect.poll(() => campaignRow.textContent(), { timeout: 10_000 }).toContain(`${CONFIGS.length} / ${CONFIGS.length}`);
    expect(await campaignRow.locator('[role=progressbar]').getAttribute('aria-valuenow')).toBe('100');
    expect(await campaignRow.textContent()).toContain('done');
    expect([...dashErrors, ...agentErrors]).toEqual([]);
  });

  it(
    'pauses while hidden, reconnects as the same device after a coordinator restart, and stops with the reason when ' +
      'revoked or misconfigured',
    async () => {
      const database = join(tempDir(), 'browser.sqlite');
      let c = await startCoordinator(database);
      const port = c.address.port;
      const { token } = c.store.createEnrolmentToken();
      const { page, errors } = await openPage();
      await page.goto(`${c.address.http}/agent?token=${token}&threads=1&calibrate=0`);
      const id = await waitFor('the browser online', () => c.onlineDevices()[0], 60_000);

      // In the background (a hidden tab is throttled) the page takes no work, and says why; in front again, it does.
      await page.evaluate(() => Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' }));
      const campaign = c.store.createCampaign({ name: 'hidden', configs: CONFIGS.slice(3), deviceIds: [id], protocol: FAST_PROTOCOL });
      await expect
        .poll(() => page.locator('#state').textContent(), { timeout: 20_000 })
        .toContain('paused: this page is in the background');
      await new Promise((r) => setTimeout(r, 1500));
      expect(c.store.progress(campaign.id)).toEqual([expect.objectContaining({ pending: 2, leased: 0, done: 0 })]);
      await page.evaluate(() => delete (document as unknown as Record<string, unknown>).visibilityState);
      await waitFor('the campaign done once the page is in front', () => c.store.getCampaign(campaign.id).state === 'done', 60_000);

      await c.stop();
      coordinators.splice(0);
      await expect.poll(() => page.locator('#state').textContent(), { timeout: 10_000 }).toMatch(/waiting|connecting/);
      c = await startCoordinator(database, port);
      await waitFor('the browser back online', () => c.onlineDevices().includes(id) || undefined, 30_000);
      expect(
        c.store
          .listDevices()
          .filter((d) => d.origin === 'agent')
          .map((d) => d.id),
      ).toEqual([id]);

      // Revoked: the page cannot see the 401 of a failed upgrade; it asks, says why and stops.
      c.store.revokeDevice(id);
      await page.reload();
      await expect.poll(() => page.locator('#state').textContent(), { timeout: 20_000 }).toMatch(/refused.*401.*revoked/);
      expect(c.onlineDevices()).toEqual([]);

      // Bad options name the field.
      await page.goto(`${c.address.http}/agent?threads=zero`);
      await expect.poll(() => page.locator('#state').textContent()).toContain('threads: a whole number');
      await page.goto(`${c.address.http}/agent?opt=fast`);
      await expect.poll(() => page.locator('#state').textContent()).toContain('opt: one of disabled, basic, extended, all');
      expect(errors).toEqual([]);
    },
  );

  it('serves the pages cross-origin isolated, the wasm files itself, and nothing outside them', async () => {
    const c = await startCoordinator(join(tempDir(), 'browser.sqlite'));
    const base = c.address.http;
    for (const path of ['/', '/agent', '/assets/agent.js', '/ort/ort-wasm-simd-threaded.wasm']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cross-origin-opener-policy'), path).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy'), path).toBe('require-corp');
      await res.arrayBuffer();
    }
    expect((await fetch(`${base}/ort/ort-wasm-simd-threaded.wasm`)).headers.get('content-type')).toBe('application/wasm');
    for (const path of ['/assets/..%2f..%2fpackage.json', '/ort/ort.node.min.mjs', '/assets/nothing.js']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
      await res.text();
    }
    // A path that does not decode is refused, and the coordinator stays up.
    const bad = await fetch(`${base}/assets/%E0%A4%A`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/not a valid URL path/);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });
});
