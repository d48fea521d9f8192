// Predictor accuracy and device similarity as ECharts charts (only the chart types used are bundled).
import { HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { Accuracy, Similarity } from './api.js';

echarts.use([
  ScatterChart,
  LineChart,
  HeatmapChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

const charts = new Map<string, echarts.ECharts>();
function chart(id: string): echarts.ECharts {
  const el = document.getElementById(id)!;
  let c = charts.get(id);
  if (!c || c.isDisposed()) {
    c = echarts.init(el, undefined, { renderer: 'canvas' });
    charts.set(id, c);
  }
  return c;
}
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));

/** Predicted against measured, log-log, one series per kernel type, with the y = x line. */
export function drawScatter(id: string, data: Accuracy): void {
  const types = [...new Set(data.points.map((p) => p.type))];
  // Under 0.1 µs is below any timer here (a kernel the null model's noise cancelled out): off the log scale.
  const positive = data.points.filter((p) => p.measuredMs >= 1e-4 && p.predictedMs >= 1e-4);
  const all = positive.flatMap((p) => [p.measuredMs, p.predictedMs]);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all, 1e-3)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, 1e-2)));
  chart(id).setOption(
    {
      title: {
        text: `${data.deviceId}: predicted vs measured kernels`,
        subtext: data.points.length > positive.length ? `${data.points.length - positive.length} under 0.1 µs not shown` : '',
        textStyle: { fontSize: 13 },
      },
      tooltip: {
        trigger: 'item',
        formatter: (p: { seriesName: string; value: number[] }) =>
          `${p.seriesName}<br>measured ${p.value[0]!.toPrecision(3)} ms<br>predicted ${p.value[1]!.toPrecision(3)} ms`,
      },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 60 },
      xAxis: { type: 'log', name: 'measured ms', nameLocation: 'middle', nameGap: 25, min: lo, max: hi },
      yAxis: { type: 'log', name: 'predicted ms', min: lo, max: hi },
      series: [
        ...types.map((t) => ({
          name: t,
          type: 'scatter',
          symbolSize: 5,
          data: positive.filter((p) => p.type === t).map((p) => [p.measuredMs, p.predictedMs]),
        })),
        {
          name: 'y = x',
          type: 'line',
          data: [
            [lo, lo],
            [hi, hi],
          ],
          symbol: 'none',
          lineStyle: { type: 'dashed', color: '#888' },
          tooltip: { show: false },
        },
      ],
    },
    true,
  );
}

/** The share of kernels whose |error| is at most x%, for all kernels and for those ≥ 10 µs. */
export function drawErrorCdf(id: string, data: Accuracy): void {
  const cdf = (points: Accuracy['points']) => {
    const errors = points
      .filter((p) => p.measuredMs > 0)
      .map((p) => (100 * Math.abs(p.predictedMs - p.measuredMs)) / p.measuredMs)
      .sort((a, b) => a - b);
    return errors.map((e, i) => [Math.min(e, 100), (i + 1) / errors.length]);
  };
  chart(id).setOption(
    {
      title: { text: 'error CDF', textStyle: { fontSize: 13 } },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => (typeof v === 'number' ? v.toFixed(2) : String(v)) },
      legend: { bottom: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 60 },
      xAxis: { type: 'value', name: '|error| %', nameLocation: 'middle', nameGap: 25, min: 0, max: 100 },
      yAxis: { type: 'value', name: 'share of kernels', min: 0, max: 1 },
      series: [
        { name: 'all kernels', type: 'line', step: 'end', symbol: 'none', data: cdf(data.points) },
        { name: 'kernels ≥ 10 µs', type: 'line', step: 'end', symbol: 'none', data: cdf(data.points.filter((p) => p.measuredMs >= 0.01)) },
      ],
    },
    true,
  );
}

/** Rows: the device whose predictors predict; columns: the device whose kernels are predicted. */
export function drawSimilarity(id: string, data: Similarity): void {
  const values = data.cells
    .flat()
    .filter((c) => c !== null)
    .map((c) => c!.spearman);
  // The colour scale spans the values there are: rank correlations between devices are mostly high.
  const min = values.length ? Math.max(0, Math.floor(Math.min(...values) * 20) / 20) : 0;
  const cells = data.cells.flatMap((row, i) =>
    row.map((c, j) => (c ? [j, i, Number(c.spearman.toFixed(3)), c.logLinear, c.kernels] : [j, i, '-'])),
  );
  chart(id).setOption(
    {
      title: { text: 'similarity: Spearman rank correlation of predicted vs measured kernel latency', textStyle: { fontSize: 13 } },
      tooltip: {
        formatter: (p: { value: (number | string)[] }) => {
          const [j, i, s, ll, n] = p.value as [number, number, number | string, number, number];
          return s === '-'
            ? 'no data'
            : `predictors of ${data.devices[i]}<br>on kernels of ${data.devices[j]}<br>Spearman ${s}<br>log-linear ` +
                `residual ${ll.toFixed(3)}<br>${n} kernels`;
        },
      },
      grid: { left: 160, right: 30, top: 40, bottom: 140 },
      xAxis: { type: 'category', data: data.devices, name: 'measured on', axisLabel: { rotate: 40 }, splitArea: { show: true } },
      yAxis: { type: 'category', data: data.devices, name: 'predictors of', inverse: true, splitArea: { show: true } },
      visualMap: {
        dimension: 2,
        min,
        max: 1,
        inRange: { color: ['#fff7ec', '#fdbb84', '#d7301f', '#7f0000'] },
        calculable: true,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        precision: 2,
      },
      series: [
        {
          type: 'heatmap',
          data: cells,
          label: { show: data.devices.length <= 12, formatter: (p: { value: (number | string)[] }) => String(p.value[2]) },
        },
      ],
    },
    true,
  );
}
