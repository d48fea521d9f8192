// The dashboard: the fleet, its campaigns and adaptations (refreshed every 2 s), and on demand a
// device's predictor accuracy and the similarity between devices.
import { coordinator, type Overview } from './api.js';
import { adminPanel } from './admin.js';
import { drawErrorCdf, drawScatter, drawSimilarity } from './charts.js';
import { h, replace, table } from './dom.js';
import { adaptationsTable, campaignsTable, devicesTable } from './tables.js';

const REFRESH_MS = 2000;
let last: Overview | undefined;

async function refresh(): Promise<void> {
  try {
    last = await coordinator().call('overview');
    replace('devices', devicesTable(last.devices));
    replace(
      'campaigns',
      campaignsTable(last.campaigns, () => void refresh()),
    );
    replace('adaptations', adaptationsTable(last.adaptations));
    fillDeviceChoice(last);
    document.getElementById('updated')!.textContent = `updated ${new Date(last.generatedAt).toLocaleTimeString()}`;
    document.body.dataset.loaded = 'true';
  } catch (e) {
    document.getElementById('updated')!.textContent = `coordinator unreachable: ${(e as Error).message}`;
  }
}

function fillDeviceChoice(o: Overview): void {
  const select = document.getElementById('accuracy-device') as HTMLSelectElement;
  const ids = o.devices.map((d) => d.id);
  const label = (d: Overview['devices'][number]) => `${d.id} (${d.predictorTypes} predictor types)`;
  if ([...select.options].map((x) => x.textContent).join() === o.devices.map(label).join()) return;
  const current = select.value;
  select.replaceChildren(...o.devices.map((d) => h('option', { value: d.id }, label(d))));
  // First choice: an enrolled device with predictors (more telling than the starter pool's).
  const withPredictors = o.devices.filter((d) => d.predictorTypes > 0);
  select.value = ids.includes(current)
    ? current
    : ((withPredictors.find((d) => d.origin === 'agent') ?? withPredictors[0])?.id ?? ids[0] ?? '');
  void showAccuracy();
}

async function showAccuracy(): Promise<void> {
  const id = (document.getElementById('accuracy-device') as HTMLSelectElement).value;
  if (!id) return;
  try {
    const data = await coordinator().call('accuracy', { params: { id } });
    const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(0)}%`);
    replace(
      'accuracy-table',
      table(
        ['kernel type', 'predictor', 'version', 'trained on', 'held-out within ±10%', 'held-out MAPE', 'points shown'],
        data.types.map((t) => [
          t.type,
          `${t.kind}${t.method ? ` (${t.method})` : ''}`,
          t.version,
          t.trainingSamples,
          pct(t.metrics?.within10),
          pct(t.metrics?.mape),
          t.measured,
        ]),
        `${id} has no predictors yet: finish a campaign on it, or adapt it.`,
      ),
    );
    drawScatter('scatter', data);
    drawErrorCdf('cdf', data);
  } catch (e) {
    replace('accuracy-table', h('p', { class: 'error' }, (e as Error).message));
  }
}

async function showSimilarity(): Promise<void> {
  try {
    drawSimilarity('similarity', await coordinator().call('similarity'));
  } catch (e) {
    replace('similarity', h('p', { class: 'error' }, (e as Error).message));
  }
}

function renderAdmin(): void {
  replace(
    'admin',
    adminPanel(() => {
      renderAdmin();
      void refresh();
    }),
  );
}

document.getElementById('accuracy-device')!.addEventListener('change', () => void showAccuracy());
document.getElementById('similarity-refresh')!.addEventListener('click', () => void showSimilarity());
renderAdmin();
void refresh().then(showSimilarity);
setInterval(() => void refresh(), REFRESH_MS);
