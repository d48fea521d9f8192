// With the admin token: enrol a browser (a one-use link and its QR code) or a board (the one line
// that installs the agent with the coordinator's /install.sh), and cancel campaigns.
// Without it the dashboard is read-only.
import QRCode from 'qrcode';
import { adminToken, coordinator, setAdminToken } from './api.js';
import { h } from './dom.js';

export function adminPanel(onChange: () => void): HTMLElement {
  if (!adminToken()) {
    const input = h('input', {
      type: 'password',
      placeholder: 'admin token (lpa_...)',
      'aria-label': 'admin token',
      id: 'admin-token',
    }) as HTMLInputElement;
    const unlock = h('button', {}, 'unlock');
    const message = h('span', { class: 'error' });
    unlock.addEventListener('click', async () => {
      setAdminToken(input.value.trim());
      try {
        await coordinator().call('adminCheck');
        onChange();
      } catch (e) {
        setAdminToken(undefined);
        message.textContent = (e as Error).message;
      }
    });
    return h('div', { class: 'admin' }, h('span', {}, 'read-only'), input, unlock, message);
  }
  const enrol = h('button', { id: 'enrol-browser' }, 'enrol a browser');
  const lock = h('button', { class: 'small' }, 'lock');
  const out = h('div', { class: 'enrol' });
  lock.addEventListener('click', () => {
    setAdminToken(undefined);
    onChange();
  });
  enrol.addEventListener('click', async () => {
    const threads = (document.getElementById('enrol-threads') as HTMLSelectElement).value;
    try {
      const t = await coordinator().call('createToken', { body: { label: 'browser (dashboard)', maxUses: 1, ttlMs: 24 * 3600_000 } });
      const url = new URL('/agent', location.href);
      url.searchParams.set('token', t.token);
      if (threads !== 'auto') url.searchParams.set('threads', threads);
      const canvas = document.createElement('canvas');
      await QRCode.toCanvas(canvas, url.href, { width: 220, margin: 1 });
      out.replaceChildren(
        h('p', {}, 'Open on the device (one use, valid 24 h): ', h('a', { href: url.href, target: '_blank', id: 'enrol-link' }, url.href)),
        canvas,
      );
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
    }
  });
  const board = h('button', { id: 'enrol-board' }, 'enrol a board');
  board.addEventListener('click', async () => {
    try {
      const t = await coordinator().call('createToken', { body: { label: 'board (dashboard)', maxUses: 1, ttlMs: 24 * 3600_000 } });
      const base = new URL('/', location.href).href.replace(/\/$/, '');
      const line = `curl -fsSL ${base}/install.sh | sh -s -- --token ${t.token}`;
      out.replaceChildren(
        h('p', {}, 'On the board (Node 20 or newer; one use, valid 24 h; add --service user to keep it running as a systemd unit):'),
        h('pre', { id: 'enrol-line' }, line),
        h('p', {}, 'or, without piping to sh: ', h('code', {}, `curl -fsSLO ${base}/install.sh && sh install.sh --token ${t.token}`)),
      );
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
    }
  });
  const threads = h(
    'select',
    { id: 'enrol-threads', 'aria-label': 'threads' },
    ['auto', '1', '2', '4'].map((n) => h('option', { value: n }, n === 'auto' ? 'threads: auto' : `${n} thread(s)`)),
  );
  return h('div', { class: 'admin' }, h('span', { class: 'badge' }, 'admin'), threads, enrol, board, lock, out);
}
