// A few lines of DOM building so the tables read as what they show.
type Child = Node | string | number | null | undefined | false;

export function h(tag: string, attrs: Record<string, string | undefined> = {}, ...children: (Child | Child[])[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function table(headers: string[], rows: Child[][], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((x) => h('th', {}, x)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          r.map((c) => h('td', {}, c)),
        ),
      ),
    ),
  );
}

export function progressBar(done: number, total: number, label: string): HTMLElement {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  return h(
    'div',
    {
      class: 'progress',
      role: 'progressbar',
      'aria-valuenow': String(Math.round(share * 100)),
      'aria-valuemin': '0',
      'aria-valuemax': '100',
    },
    h('div', { class: 'bar', style: `width:${(share * 100).toFixed(1)}%` }),
    h('span', {}, label),
  );
}

export const ago = (t: number) => {
  const s = Math.max(0, (Date.now() - t) / 1000);
  return s < 90
    ? `${s.toFixed(0)} s ago`
    : s < 5400
      ? `${(s / 60).toFixed(0)} min ago`
      : s < 172_800
        ? `${(s / 3600).toFixed(0)} h ago`
        : `${(s / 86400).toFixed(0)} d ago`;
};

export const duration = (s: number) =>
  s < 90 ? `${s.toFixed(0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`;

export function replace(id: string, content: Node): void {
  document.getElementById(id)!.replaceChildren(content);
}
