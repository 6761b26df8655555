/**
 * Bar charts of one number by day, drawn by uPlot (bundled), each with a table of the same numbers beside it: the
 * table is what a screen reader and a test read; the canvas is for the eye.
 */
import uPlot from 'uplot';
import { h } from './dom.js';

export interface DaySeries {
  /** "YYYY-MM-DD", oldest first. */
  days: string[];
  values: number[];
  label: string;
  format: (value: number) => string;
  colour: string;
  /** Whole numbers (requests, tokens): no fractional ticks. */
  integer?: boolean;
}

const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9];

const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

export function dayChart(series: DaySeries, width: number): HTMLElement {
  const frame = h('figure', { className: 'chart' });
  const caption = h('figcaption', {}, series.label);
  const plot = h('div', { className: 'plot', role: 'img', 'aria-label': `${series.label}: bar chart, the table below has the numbers` });
  const table = h('table', { className: 'chart-table' },
    h('caption', { className: 'visually-hidden' }, series.label),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, series.label))),
    h('tbody', {}, series.days.map((day, i) => h('tr', { 'data-day': day }, h('th', { scope: 'row' }, day), h('td', { 'data-value': String(series.values[i]) }, series.format(series.values[i]!))))));
  frame.append(caption, plot, h('details', {}, h('summary', {}, 'Numbers'), table));
  if (series.days.length > 0) {
    const bars = uPlot.paths.bars!({ size: [0.6, 48] });
    const xs = series.days.map(dayStart);
    // uPlot needs a range: one day alone gets a day either side.
    const pad = 86_400;
    new uPlot({
      width: Math.max(240, width), height: 220, legend: { show: false }, cursor: { show: true, drag: { x: false, y: false } },
      scales: { x: { time: true, range: [Math.min(...xs) - pad, Math.max(...xs) + pad] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
      axes: [
        { space: 70, incrs: [86_400, 7 * 86_400, 30 * 86_400], values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) },
        { values: (_u, ticks) => ticks.map((t) => series.format(t)), size: 70, ...(series.integer ? { incrs: WHOLE_STEPS } : {}) },
      ],
      series: [{}, { label: series.label, stroke: series.colour, fill: `${series.colour}99`, paths: bars, points: { show: false } }],
    }, [xs, series.values], plot);
  } else {
    plot.append(h('p', { className: 'empty' }, 'Nothing in this range yet.'));
  }
  return frame;
}

/** A line chart that grows as points arrive (a training's loss by step), with its numbers in a table too. */
export interface LiveLine {
  element: HTMLElement;
  add(x: number, y: number): void;
}

export function liveLineChart(label: string, xLabel: string, colour: string, width: number): LiveLine {
  const xs: number[] = [];
  const ys: number[] = [];
  const plot = h('div', { className: 'plot', role: 'img', 'aria-label': `${label} by ${xLabel}: line chart, the table below has the numbers` });
  const rows = h('tbody');
  const element = h('figure', { className: 'chart' }, h('figcaption', {}, label), plot,
    h('details', {}, h('summary', {}, 'Numbers'), h('table', { className: 'chart-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, xLabel), h('th', { scope: 'col' }, label))), rows)));
  let chart: uPlot | null = null;
  return {
    element,
    add(x, y) {
      xs.push(x);
      ys.push(y);
      rows.append(h('tr', {}, h('th', { scope: 'row' }, String(x)), h('td', { 'data-value': String(y) }, y.toFixed(4))));
      if (!chart) {
        chart = new uPlot({
          width: Math.max(240, width), height: 200, legend: { show: false },
          scales: { x: { time: false }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
          axes: [{ label: xLabel }, { size: 60 }],
          series: [{}, { label, stroke: colour, width: 2, points: { show: xs.length < 30 } }],
        }, [xs, ys], plot);
      } else {
        chart.setData([xs, ys]);
      }
    },
  };
}
