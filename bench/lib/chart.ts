/**
 * A hand-written SVG of latency over time: one panel per phase, every sample as a dot and the
 * p50 / p99 of each half-second as lines, so stalls (a GC pause, a slow SQLite commit) show where
 * they happened instead of disappearing into a percentile.
 */
import { percentile } from './stats';

/** One panel: samples as [seconds since the phase started, latency ms]. */
export interface ChartSeries {
  title: string;
  points: [number, number][];
}

const W = 900;
const PANEL_H = 170;
const M = { left: 60, right: 20, top: 28, bottom: 30 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Rounds an axis maximum up to 1, 2 or 5 × a power of ten. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function panel(series: ChartSeries, top: number): string {
  const pts = series.points;
  const innerW = W - M.left - M.right;
  const innerH = PANEL_H - M.top - M.bottom;
  const xMax = niceMax(Math.max(1, ...pts.map((p) => p[0])));
  // The y axis stops at the 99.9th percentile so one outlier does not flatten everything; outliers are drawn at the top edge.
  const sortedY = pts.map((p) => p[1]).sort((a, b) => a - b);
  const yMax = niceMax(Math.max(1, percentile(sortedY, 99.9)));
  const x = (s: number) => M.left + (s / xMax) * innerW;
  const y = (ms: number) => top + M.top + innerH - (Math.min(ms, yMax) / yMax) * innerH;
  const out: string[] = [];
  out.push(`<text x="${M.left}" y="${top + 18}" font-size="13" font-weight="bold">${esc(series.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(
      `<text x="${M.left - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${Math.round(v * 10) / 10} ms</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const v = (xMax * i) / 5;
    out.push(
      `<text x="${x(v)}" y="${top + PANEL_H - 10}" font-size="10" text-anchor="middle">${Math.round(v * 10) / 10} s</text>`,
    );
  }
  // At most ~3000 dots per panel: enough to see the shape, small enough to open.
  const step = Math.max(1, Math.ceil(pts.length / 3000));
  const dots = pts
    .filter((_, i) => i % step === 0)
    .map(([s, ms]) => `<circle cx="${x(s).toFixed(1)}" cy="${y(ms).toFixed(1)}" r="1.3"/>`);
  out.push(`<g fill="#4a7ab8" fill-opacity="0.35">${dots.join('')}</g>`);
  const buckets = new Map<number, number[]>();
  for (const [s, ms] of pts) {
    const b = Math.floor(s * 2);
    const list = buckets.get(b) ?? [];
    list.push(ms);
    buckets.set(b, list);
  }
  const ordered = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, list]) => [b / 2 + 0.25, list.sort((p, q) => p - q)] as const);
  const line = (p: number, color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${ordered.map(([s, list]) => `${x(s).toFixed(1)},${y(percentile(list, p)).toFixed(1)}`).join(' ')}"/>`;
  out.push(line(50, '#1b5e20'), line(99, '#b71c1c'));
  out.push(
    `<text x="${W - M.right}" y="${top + 18}" font-size="11" text-anchor="end"><tspan fill="#1b5e20">p50</tspan> / <tspan fill="#b71c1c">p99</tspan> per 0.5 s · dots: each request</text>`,
  );
  return out.join('\n');
}

/** The whole SVG document. */
export function latencyChart(title: string, series: readonly ChartSeries[]): string {
  const h = 40 + series.length * PANEL_H;
  const body = series.map((s, i) => panel(s, 36 + i * PANEL_H)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>
${body}
</svg>
`;
}
