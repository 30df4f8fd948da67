// The browser demo, live: serves it, opens it in headless Chromium (Debian's
// /usr/bin/chromium, WebGPU on SwiftShader), waits for the three optimizers to
// train, checks that every loss falls and that the chart is drawn, and saves a
// screenshot to docs/images/browser-demo.png. Run by @gradtx/webgpu's tests.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module without types
import { startServer } from './serve.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = new URL('../../docs/images/browser-demo.png', import.meta.url);

interface Run {
  steps: number;
  losses: number[];
  accuracy: number | null;
}
interface DemoState {
  backend: string | null;
  status: string;
  error: string | null;
  runs: Record<string, Run>;
  curvesDrawn: number;
}

let server: { url: string; close: () => Promise<void> };
let profile: string;
let browser: Awaited<ReturnType<typeof chromium.launchPersistentContext>>;

beforeAll(async () => {
  server = await startServer({ port: 0, quiet: true });
  profile = mkdtempSync(join(tmpdir(), 'gradtx-demo-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 1000 },
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--headless',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('browser demo (examples/browser)', () => {
  it('trains sgd, adam and adamw + warmup-cosine on WebGPU, the losses fall, the chart is drawn', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(server.url);
    await page.waitForFunction(
      () => {
        const d = (window as unknown as { demo?: DemoState }).demo;
        return d !== undefined && (d.status === 'done' || d.status === 'error');
      },
      undefined,
      { timeout: 280_000, polling: 500 },
    );
    const demo = (await page.evaluate(() => (window as unknown as { demo: DemoState }).demo)) as DemoState;
    expect(demo.error, 'the page reported an error').toBeNull();
    expect(errors, 'errors on the page').toEqual([]);
    // Chromium here has WebGPU (SwiftShader): the demo must have picked it, with the fused kernels
    expect(demo.backend).toBe('webgpu');
    await expect(page.locator('#backend').textContent()).resolves.toContain('fused WGSL kernel');

    for (const [name, run] of Object.entries(demo.runs)) {
      expect(run.steps, `${name}: steps`).toBe(300);
      const first = run.losses.slice(0, 10).reduce((a, b) => a + b, 0) / 10;
      const last = run.losses.slice(-20).reduce((a, b) => a + b, 0) / 20;
      expect(first, `${name}: initial loss near ln(10)`).toBeGreaterThan(1.8);
      expect(last, `${name}: the loss falls (first 10 steps ${first.toFixed(3)}, last 20 ${last.toFixed(3)})`).toBeLessThan(first / 4);
      expect(run.accuracy ?? 0, `${name}: test accuracy`).toBeGreaterThan(0.85);
    }

    // the chart: three curves drawn, each color present on the canvas
    expect(demo.curvesDrawn).toBe(3);
    const pixels = await page.evaluate(() => {
      const canvas = document.getElementById('chart') as HTMLCanvasElement;
      const data = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height).data;
      const colors = { sgd: [0xd1, 0x49, 0x5b], adam: [0x00, 0x79, 0x8c], adamw: [0xed, 0xae, 0x49] };
      const counts: Record<string, number> = {};
      for (const [k, [r, g, b]] of Object.entries(colors)) {
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (
            Math.abs((data[i] as number) - r) < 8 &&
            Math.abs((data[i + 1] as number) - g) < 8 &&
            Math.abs((data[i + 2] as number) - b) < 8
          )
            n++;
        }
        counts[k] = n;
      }
      return counts;
    });
    for (const [k, n] of Object.entries(pixels)) expect(n, `${k}: pixels of its curve`).toBeGreaterThan(300);

    mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
    await page.close();
  });
});
