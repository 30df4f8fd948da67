/**
 * A tiny, dependency-free SVG line chart for the examples' plots: axes with
 * "nice" ticks, an optional log-scale y axis, a legend, a title and several
 * series. Non-finite points (and, on a log axis, points ≤ 0) break a line
 * instead of corrupting it, so a diverging run still plots.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One line (or set of markers) on a chart. */
export interface Series {
  /** The legend label. */
  name: string;
  /** The y values. */
  y: ArrayLike<number>;
  /** The x values (default 1, 2, 3, ...: the step or epoch number). */
  x?: ArrayLike<number>;
  /** A CSS colour (default: the next one of {@link PALETTE}). */
  color?: string;
  /** Draw the line dashed (default false). */
  dashed?: boolean;
  /** Draw a dot at every point (default false); with `line: false`, a scatter plot. */
  markers?: boolean;
  /** Draw the line joining the points (default true). */
  line?: boolean;
  /** The radius of the dots in pixels (default 3). */
  markerSize?: number;
  /** Line width in pixels (default 2). */
  width?: number;
}

/** A horizontal reference line; its label sits at the left end above the line unless told otherwise. */
export interface ReferenceLine {
  y: number;
  label?: string;
  /** Put the label at the right end (default false). */
  labelRight?: boolean;
  /** Put the label below the line (default false). */
  labelBelow?: boolean;
}

/** Where the legend sits: in a corner or at a side of the plot area, to its right (`'outside'`, narrowing the plot), or nowhere. */
export type LegendPosition =
  | 'top-right'
  | 'top-left'
  | 'center-right'
  | 'center-left'
  | 'bottom-right'
  | 'bottom-left'
  | 'outside'
  | 'none';

/** Options of {@link lineChart}. */
export interface ChartOptions {
  /** The title, drawn above the plot. */
  title: string;
  /** A smaller second line under the title (default none). */
  subtitle?: string;
  /** The series, drawn in order (the first one is at the bottom). */
  series: Series[];
  /** The x axis label (default none). */
  xLabel?: string;
  /** The y axis label (default none). */
  yLabel?: string;
  /** Use a log10 y axis (default false). */
  logY?: boolean;
  /** Use a log10 x axis (default false). */
  logX?: boolean;
  /** Fix the x range (default: the data's range). */
  xMin?: number;
  /** Fix the x range (default: the data's range). */
  xMax?: number;
  /** Fix the y range (default: the data's range, padded on a linear axis). */
  yMin?: number;
  /** Fix the y range (default: the data's range, padded on a linear axis). */
  yMax?: number;
  /** Horizontal reference lines, drawn dashed and grey with a label (default none). */
  hLines?: ReferenceLine[];
  /** The legend position (default `'top-right'`). */
  legend?: LegendPosition;
  /** The width of the SVG in pixels (default 720). */
  width?: number;
  /** The height of the SVG in pixels (default 420). */
  height?: number;
}

/** The default colours: the Okabe–Ito palette, readable for colour-blind readers. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

/** Escapes text for use in SVG element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** About `count` evenly spaced round ticks (steps of 1, 2 or 5 × 10^k) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(Number.isFinite(min) && Number.isFinite(max))) return [];
  if (min === max) return [min];
  if (min > max) [min, max] = [max, min];
  const raw = (max - min) / Math.max(1, count - 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Powers of ten in [min, max] (min > 0), thinned to at most about 8 labels. */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0 && max > 0 && Number.isFinite(min) && Number.isFinite(max))) return [];
  const lo = Math.ceil(Math.log10(min) - 1e-9);
  const hi = Math.floor(Math.log10(max) + 1e-9);
  const every = Math.max(1, Math.ceil((hi - lo + 1) / 8));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e += every) ticks.push(10 ** e);
  return ticks;
}

/** A short label for a tick value: plain for moderate magnitudes, `1e-6` style otherwise. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const e = Math.floor(Math.log10(a) + 1e-9);
    const m = Number((v / 10 ** e).toPrecision(3));
    return m === 1 ? `1e${e}` : m === -1 ? `-1e${e}` : `${m}e${e}`;
  }
  return String(Number(v.toPrecision(4)));
}

interface Range {
  min: number;
  max: number;
}

/** The range of the finite (and, for a log axis, positive) values, or null when there are none. */
function dataRange(values: number[], positiveOnly: boolean): Range | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (positiveOnly && v <= 0)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : null;
}

/** The points of a series as [x, y] pairs (x defaults to 1, 2, 3, ...). */
function points(s: Series): [number, number][] {
  const n = s.x ? Math.min(s.x.length, s.y.length) : s.y.length;
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([s.x ? (s.x[i] as number) : i + 1, s.y[i] as number]);
  return out;
}

/** Rounds a pixel coordinate to 0.1 px to keep the files small. */
function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/**
 * Draws the series as an SVG document (a string). Each series becomes a
 * `<g class="series" data-name="...">` holding its `<path>` (and markers),
 * so the output is easy to inspect and test.
 */
export function lineChart(opts: ChartOptions): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 420;
  const logY = opts.logY ?? false;
  const logX = opts.logX ?? false;
  const legend = opts.legend ?? 'top-right';
  const pts = opts.series.map(points);
  const usable = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0) && (!logX || x > 0);

  // Data ranges, then the axis ranges (fixed bounds win).
  const xr = dataRange(
    pts.flatMap((p) => p.filter(([x, y]) => usable(x, y)).map(([x]) => x)),
    logX,
  );
  const yr = dataRange(
    [...pts.flatMap((p) => p.filter(([x, y]) => usable(x, y)).map(([, y]) => y)), ...(opts.hLines ?? []).map((h) => h.y)],
    logY,
  );
  const empty = xr === null || yr === null;
  let xMin = opts.xMin ?? xr?.min ?? 1;
  let xMax = opts.xMax ?? xr?.max ?? 10;
  if (xMin === xMax) [xMin, xMax] = logX ? [xMin / 10, xMax * 10] : [xMin - 1, xMax + 1];
  let yMin: number;
  let yMax: number;
  if (logY) {
    yMin = opts.yMin ?? (yr ? 10 ** Math.floor(Math.log10(yr.min) + 1e-9) : 1);
    yMax = opts.yMax ?? (yr ? 10 ** Math.ceil(Math.log10(yr.max) - 1e-9) : 10);
    if (yMin === yMax) [yMin, yMax] = [yMin / 10, yMax * 10];
  } else {
    const lo = yr?.min ?? 0;
    const hi = yr?.max ?? 1;
    const pad = lo === hi ? Math.max(1, Math.abs(lo)) * 0.1 : (hi - lo) * 0.05;
    yMin = opts.yMin ?? lo - pad;
    yMax = opts.yMax ?? hi + pad;
  }

  // Layout: title on top, y tick labels on the left, x labels below.
  const top = opts.subtitle ? 62 : 46;
  const left = opts.yLabel ? 78 : 62;
  const legendW = 44 + Math.max(0, ...opts.series.map((s) => s.name.length)) * 6.4;
  const outside = legend === 'outside' && opts.series.length > 0;
  const right = outside ? Math.min(legendW, width / 2) + 24 : 20;
  const bottom = opts.xLabel ? 56 : 36;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const lx = (x: number) => (logX ? Math.log10(x) : x);
  const sx = (x: number) => left + ((lx(x) - lx(xMin)) / (lx(xMax) - lx(xMin))) * plotW;
  const ly = (y: number) => (logY ? Math.log10(y) : y);
  const sy = (y: number) => top + plotH - ((ly(y) - ly(yMin)) / (ly(yMax) - ly(yMin))) * plotH;

  const clipId = `plot-${hash(opts.title)}`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<title>${escapeXml(opts.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600" fill="#111">${escapeXml(opts.title)}</text>`,
  );
  if (opts.subtitle) {
    out.push(`<text x="${width / 2}" y="44" text-anchor="middle" font-size="12" fill="#555">${escapeXml(opts.subtitle)}</text>`);
  }
  out.push(`<defs><clipPath id="${clipId}"><rect x="${left}" y="${top}" width="${plotW}" height="${plotH}"/></clipPath></defs>`);

  // Grid and ticks.
  const xTicks = (logX ? logTicks(xMin, xMax) : niceTicks(xMin, xMax, 7)).filter((t) => t >= xMin && t <= xMax);
  const yTicks = (logY ? logTicks(yMin, yMax) : niceTicks(yMin, yMax, 6)).filter((t) => t >= yMin && t <= yMax);
  out.push('<g class="grid" stroke="#e5e5e5" stroke-width="1">');
  for (const t of xTicks) out.push(`<line x1="${px(sx(t))}" y1="${top}" x2="${px(sx(t))}" y2="${top + plotH}"/>`);
  for (const t of yTicks) out.push(`<line x1="${left}" y1="${px(sy(t))}" x2="${left + plotW}" y2="${px(sy(t))}"/>`);
  out.push('</g>');
  out.push('<g class="axes" fill="#333">');
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  for (const t of xTicks) {
    out.push(`<line x1="${px(sx(t))}" y1="${top + plotH}" x2="${px(sx(t))}" y2="${top + plotH + 5}" stroke="#888"/>`);
    out.push(`<text x="${px(sx(t))}" y="${top + plotH + 18}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of yTicks) {
    out.push(`<line x1="${left - 5}" y1="${px(sy(t))}" x2="${left}" y2="${px(sy(t))}" stroke="#888"/>`);
    out.push(`<text x="${left - 8}" y="${px(sy(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`);
  }
  if (opts.xLabel) {
    out.push(`<text x="${px(left + plotW / 2)}" y="${height - 14}" text-anchor="middle" fill="#111">${escapeXml(opts.xLabel)}</text>`);
  }
  if (opts.yLabel) {
    const cy = px(top + plotH / 2);
    out.push(`<text x="18" y="${cy}" text-anchor="middle" transform="rotate(-90 18 ${cy})" fill="#111">${escapeXml(opts.yLabel)}</text>`);
  }
  out.push('</g>');

  // Reference lines.
  for (const h of opts.hLines ?? []) {
    if (!(h.y >= yMin && h.y <= yMax) || (logY && h.y <= 0)) continue;
    const y = px(sy(h.y));
    out.push(`<g class="hline"><line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#777" stroke-dasharray="2 3"/>`);
    if (h.label) {
      const tx = h.labelRight ? `${left + plotW - 6}" text-anchor="end` : `${left + 6}`;
      out.push(`<text x="${tx}" y="${px(sy(h.y) + (h.labelBelow ? 14 : -4))}" fill="#555" font-size="11">${escapeXml(h.label)}</text>`);
    }
    out.push('</g>');
  }

  // The series: one path per series, broken into sub-paths at unusable points.
  opts.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const p = pts[i] as [number, number][];
    let d = '';
    let pen = false;
    const dots: string[] = [];
    // A point less than half a pixel from the last one drawn adds nothing
    // visible, so long dense series are thinned (the last point of a run is kept).
    let last: [number, number] = [Number.NaN, Number.NaN];
    let skipped: [number, number] | null = null;
    const flush = () => {
      if (skipped) d += `L${px(skipped[0])} ${px(skipped[1])}`;
      skipped = null;
    };
    for (const [x, y] of p) {
      if (!usable(x, y)) {
        flush();
        pen = false;
        continue;
      }
      const cx = sx(x);
      const cy = sy(y);
      if (s.markers) dots.push(`<circle cx="${px(cx)}" cy="${px(cy)}" r="${s.markerSize ?? 3}"/>`);
      if (pen && Math.abs(cx - last[0]) < 0.5 && Math.abs(cy - last[1]) < 0.5) {
        skipped = [cx, cy];
        continue;
      }
      skipped = null;
      d += `${pen ? 'L' : 'M'}${px(cx)} ${px(cy)}`;
      last = [cx, cy];
      pen = true;
    }
    flush();
    const dash = s.dashed ? ' stroke-dasharray="7 4"' : '';
    out.push(`<g class="series" data-name="${escapeXml(s.name)}" clip-path="url(#${clipId})">`);
    if (s.line ?? true) {
      out.push(
        `<path d="${d || 'M0 0'}" fill="none" stroke="${color}" stroke-width="${s.width ?? 2}" stroke-linejoin="round" stroke-linecap="round"${dash}${d ? '' : ' visibility="hidden"'}/>`,
      );
    }
    if (dots.length) out.push(`<g fill="${color}" stroke="#ffffff" stroke-width="1">${dots.join('')}</g>`);
    out.push('</g>');
  });

  if (empty) {
    out.push(
      `<text class="no-data" x="${px(left + plotW / 2)}" y="${px(top + plotH / 2)}" text-anchor="middle" fill="#999" font-size="14">no data</text>`,
    );
  }

  // Legend: one row per series, in a white box in a corner of the plot area.
  if (legend !== 'none' && opts.series.length > 0) {
    const rowH = 18;
    const boxW = outside ? Math.min(legendW, width / 2) : Math.min(plotW - 20, legendW);
    const boxH = 10 + rowH * opts.series.length;
    const bx = outside ? left + plotW + 12 : legend.endsWith('right') ? left + plotW - boxW - 10 : left + 10;
    const by =
      outside || legend.startsWith('top')
        ? top + (outside ? 0 : 10)
        : legend.startsWith('center')
          ? top + (plotH - boxH) / 2
          : top + plotH - boxH - 10;
    out.push(
      `<g class="legend"><rect x="${px(bx)}" y="${px(by)}" width="${px(boxW)}" height="${boxH}" fill="#ffffff" fill-opacity="0.9" stroke="#ccc"/>`,
    );
    opts.series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const y = by + 5 + rowH * i + rowH / 2;
      const dash = s.dashed ? ' stroke-dasharray="7 4"' : '';
      if (s.line ?? true) {
        out.push(
          `<line x1="${px(bx + 8)}" y1="${px(y)}" x2="${px(bx + 32)}" y2="${px(y)}" stroke="${color}" stroke-width="${s.width ?? 2}"${dash}/>`,
        );
      }
      if (s.markers) out.push(`<circle cx="${px(bx + 20)}" cy="${px(y)}" r="3" fill="${color}"/>`);
      out.push(`<text x="${px(bx + 38)}" y="${px(y + 4)}" fill="#111">${escapeXml(s.name)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** A short stable hash of a string, for ids that differ between charts. */
function hash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

/** The folder the examples write their plots to: `docs/images/` at the repository root. */
export const IMAGES_DIR = new URL('../../docs/images/', import.meta.url);

/** Writes `svg` to `docs/images/<name>` (creating the folder) and returns the file's path. */
export function writeChart(name: string, svg: string, dir: URL = IMAGES_DIR): string {
  const path = new URL(name, dir).pathname;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
  return path;
}
