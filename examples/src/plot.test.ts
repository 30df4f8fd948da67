import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { escapeXml, formatTick, lineChart, logTicks, niceTicks, writeChart } from './plot.js';
import { parseXml, type XmlElement } from './test-utils/xml.js';

/** The `<path>` of each series group, by the group's data-name. */
function seriesPaths(els: XmlElement[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string | null = null;
  for (const el of els) {
    if (el.name === 'g' && el.attrs.class === 'series') {
      current = el.attrs['data-name'] as string;
      out.set(current, []);
    } else if (el.name === 'path' && current !== null && el.ancestors.at(-1) === 'g') {
      out.get(current)?.push(el.attrs.d as string);
    }
  }
  return out;
}

/** The number of points and sub-paths in a path's `d`. */
function pathShape(d: string): { moves: number; points: number } {
  return { moves: (d.match(/M/g) ?? []).length, points: (d.match(/[ML]/g) ?? []).length };
}

describe('lineChart', () => {
  it('draws a valid 720×420 SVG with a title, axes, a legend and one path per series', () => {
    const svg = lineChart({
      title: 'two lines',
      xLabel: 'step',
      yLabel: 'loss',
      series: [
        { name: 'a', y: [3, 2, 1.5, 1.2] },
        { name: 'b', x: [0, 10, 20], y: [1, 4, 9], dashed: true },
      ],
    });
    const els = parseXml(svg);
    const root = els[0] as XmlElement;
    expect(root.name).toBe('svg');
    expect(root.attrs).toMatchObject({ xmlns: 'http://www.w3.org/2000/svg', width: '720', height: '420', viewBox: '0 0 720 420' });
    expect(els.some((e) => e.name === 'title' && e.text === 'two lines')).toBe(true);
    const paths = seriesPaths(els);
    expect([...paths.keys()]).toEqual(['a', 'b']);
    expect(pathShape(paths.get('a')?.[0] as string)).toEqual({ moves: 1, points: 4 });
    expect(pathShape(paths.get('b')?.[0] as string)).toEqual({ moves: 1, points: 3 });
    const legend = els.filter((e) => e.name === 'text' && e.ancestors.includes('g')).map((e) => e.text);
    expect(legend).toEqual(expect.arrayContaining(['a', 'b', 'step', 'loss']));
    // Every coordinate lies inside the SVG.
    for (const d of [...paths.values()].flat()) {
      for (const [, x, y] of d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)) {
        expect(Number(x)).toBeGreaterThanOrEqual(0);
        expect(Number(x)).toBeLessThanOrEqual(720);
        expect(Number(y)).toBeGreaterThanOrEqual(0);
        expect(Number(y)).toBeLessThanOrEqual(420);
      }
    }
  });

  it('breaks a line at NaN and ±Infinity instead of drawing through them', () => {
    const svg = lineChart({ title: 'gaps', series: [{ name: 's', y: [1, 2, Number.NaN, 3, 4, Number.POSITIVE_INFINITY, 5] }] });
    const d = seriesPaths(parseXml(svg)).get('s')?.[0] as string;
    expect(pathShape(d)).toEqual({ moves: 3, points: 5 });
    expect(d).not.toMatch(/NaN|Infinity/);
  });

  it('on a log axis drops values ≤ 0 and labels the ticks as powers of ten', () => {
    const svg = lineChart({ title: 'log', logY: true, series: [{ name: 's', y: [1e-3, 0, 1e-1, -2, 10] }] });
    const els = parseXml(svg);
    const d = seriesPaths(els).get('s')?.[0] as string;
    expect(pathShape(d)).toEqual({ moves: 3, points: 3 });
    const ticks = els.filter((e) => e.name === 'text' && e.attrs['text-anchor'] === 'end').map((e) => e.text);
    expect(ticks).toEqual(['0.001', '0.01', '0.1', '1', '10']);
  });

  it('draws a valid chart with "no data" for empty series, all-NaN series and no series at all', () => {
    for (const series of [[], [{ name: 'empty', y: [] }], [{ name: 'nan', y: [Number.NaN, Number.NaN] }]]) {
      const svg = lineChart({ title: 'nothing', series, logY: series.length === 1 });
      const els = parseXml(svg);
      expect(els.some((e) => e.attrs.class === 'no-data')).toBe(true);
      expect(svg).not.toMatch(/NaN|Infinity/);
      expect(seriesPaths(els).size).toBe(series.length);
    }
  });

  it('plots a single point and a constant series without dividing by zero', () => {
    const svg = lineChart({
      title: 'flat',
      series: [
        { name: 'one', y: [2] },
        { name: 'const', y: [2, 2, 2] },
      ],
    });
    expect(svg).not.toMatch(/NaN|Infinity/);
    const paths = seriesPaths(parseXml(svg));
    expect(pathShape(paths.get('one')?.[0] as string).points).toBe(1);
    expect(pathShape(paths.get('const')?.[0] as string).points).toBe(3);
  });

  it('thins points closer than half a pixel but keeps the shape and the last point', () => {
    const n = 20_000;
    const y = Array.from({ length: n }, (_, i) => Math.sin(i / 2000));
    const svg = lineChart({ title: 'dense', series: [{ name: 's', y }] });
    const d = seriesPaths(parseXml(svg)).get('s')?.[0] as string;
    const { points } = pathShape(d);
    expect(points).toBeLessThan(3000); // from 20 000
    expect(points).toBeGreaterThan(300);
    const xs = [...d.matchAll(/[ML](-?[\d.]+) /g)].map((m) => Number(m[1]));
    expect(xs.at(-1)).toBeCloseTo(700, 0); // the right edge of the plot area: the last point is drawn
  });

  it('escapes markup in the title, names and labels', () => {
    const svg = lineChart({ title: 'a < b & "c"', xLabel: "x's", series: [{ name: '<script>', y: [1, 2] }] });
    const els = parseXml(svg);
    expect(svg).not.toContain('<script>');
    expect(els.some((e) => e.name === 'g' && e.attrs['data-name'] === '&lt;script&gt;')).toBe(true);
  });

  it('draws markers, reference lines and a log x axis', () => {
    const svg = lineChart({
      title: 'extras',
      logX: true,
      hLines: [{ y: 1, label: 'one' }],
      series: [{ name: 'dots', x: [1, 10, 100], y: [0, 1, 2], markers: true, line: false }],
    });
    const els = parseXml(svg);
    expect(els.filter((e) => e.name === 'circle' && e.ancestors.at(-1) === 'g').length).toBeGreaterThanOrEqual(3);
    expect(els.some((e) => e.attrs.class === 'hline')).toBe(true);
    expect(els.filter((e) => e.name === 'text' && e.attrs['text-anchor'] === 'middle').map((e) => e.text)).toEqual(
      expect.arrayContaining(['1', '10', '100']),
    );
  });

  it("puts an 'outside' legend to the right of a narrower plot area", () => {
    const series = [{ name: 'a fairly long series name', y: [1, 2, 3] }];
    const frame = (svg: string) =>
      parseXml(svg).find((e) => e.name === 'rect' && e.ancestors.at(-1) === 'g' && e.attrs.fill === 'none') as XmlElement;
    const inside = frame(lineChart({ title: 'in', series }));
    const outsideSvg = lineChart({ title: 'out', series, legend: 'outside' });
    const outside = frame(outsideSvg);
    expect(Number(outside.attrs.width)).toBeLessThan(Number(inside.attrs.width) - 100);
    const box = parseXml(outsideSvg).find(
      (e) => e.name === 'rect' && e.ancestors.at(-1) === 'g' && e.attrs.stroke === '#ccc',
    ) as XmlElement;
    expect(Number(box.attrs.x)).toBeGreaterThan(Number(outside.attrs.x) + Number(outside.attrs.width));
    expect(Number(box.attrs.x) + Number(box.attrs.width)).toBeLessThanOrEqual(720);
  });

  it('rejects malformed XML in the test checker itself', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => parseXml('<svg>a & b</svg>')).toThrow(/stray/);
    expect(() => parseXml('<svg x="1" x="2"/>')).toThrow(/repeated/);
  });
});

describe('ticks and labels', () => {
  it('niceTicks picks round steps covering the range', () => {
    expect(niceTicks(0, 1, 6)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-1.1, 1.1, 6)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceTicks(0, 3000, 7)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000]);
    expect(niceTicks(5, 5)).toEqual([5]);
    expect(niceTicks(Number.NaN, 1)).toEqual([]);
  });

  it('logTicks lists the powers of ten in range, thinned when there are many', () => {
    expect(logTicks(1e-3, 10)).toEqual([1e-3, 1e-2, 1e-1, 1, 10]);
    expect(logTicks(1e-15, 1e3).length).toBeLessThanOrEqual(9);
    expect(logTicks(0, 1)).toEqual([]);
  });

  it('formatTick writes small and large values in e-notation', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(0.25)).toBe('0.25');
    expect(formatTick(1e-6)).toBe('1e-6');
    expect(formatTick(2.5e-5)).toBe('2.5e-5');
    expect(formatTick(1e6)).toBe('1e6');
    expect(formatTick(1500)).toBe('1500');
  });

  it('escapeXml escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });
});

describe('writeChart', () => {
  it('writes the SVG into the given folder, creating it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradtx-plot-'));
    try {
      const svg = lineChart({ title: 't', series: [{ name: 's', y: [1, 2] }] });
      const path = writeChart('sub/chart.svg', svg, pathToFileURL(`${dir}/`));
      expect(path).toBe(join(dir, 'sub', 'chart.svg'));
      expect(readFileSync(path, 'utf8')).toBe(svg);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
