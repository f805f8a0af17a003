/**
 * Renders a local HTML file in Debian's headless chromium (driven by playwright-core) and
 * reports what a reader's browser would: console errors, every request the page tried,
 * whether it scrolls sideways at 1280 px, and what each chart drew. Screenshots go to
 * test-artifacts/ (gitignored). Offline by construction: the page is opened from disk and
 * any request it makes is recorded and aborted.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');

/** Why the browser cannot run here (no chromium, or playwright-core not installed), or null when it can. */
export function browserMissing(): string | null {
  if (!existsSync(CHROMIUM)) return `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm ci)';
  }
  return null;
}

export interface ChartMarks {
  id: string;
  /** Data marks (rect, circle, polyline, path, line) inside the chart's `g.marks` with a non-empty box. */
  marks: number;
}

export interface BrowserRender {
  consoleErrors: string[];
  /** Every URL the page requested besides the file itself. */
  requests: string[];
  scrollWidth: number;
  clientWidth: number;
  charts: ChartMarks[];
  /** Page-coordinate boxes of the first element matching each selector asked for in `boxes`. */
  boxes: Record<string, { top: number; bottom: number; left: number; right: number } | null>;
  screenshots: { top: string; full: string };
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function renderInBrowser(
  htmlPath: string,
  options: { width?: number; height?: number; name?: string; boxes?: string[]; fullPage?: boolean } = {},
): Promise<BrowserRender> {
  const { chromium } = await import('playwright-core');
  const width = options.width ?? 1280;
  const height = options.height ?? 800;
  const name = options.name ?? basename(htmlPath, '.html');
  const userDataDir = mkdtempSync(join(tmpdir(), 'rewardds-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    // The fresh profile directory is passed by playwright as --user-data-dir.
    args: FLAGS,
    viewport: { width, height },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    const requests = new Set<string>();
    const url = pathToFileURL(resolve(htmlPath)).href;
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    // Every request is recorded (file: and data: ones too); network ones are also aborted.
    page.on('request', (request) => {
      if (request.url() !== url) requests.add(request.url());
    });
    await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    await page.goto(url, { waitUntil: 'load' });
    const measured = await page.evaluate((selectors) => {
      const charts = [...document.querySelectorAll('svg.chart-svg')].map((chart) => {
        const shapes = [
          ...chart.querySelectorAll('g.marks rect, g.marks circle, g.marks polyline, g.marks path, g.marks line'),
        ];
        const drawn = shapes.filter((s) => {
          const box = (s as SVGGraphicsElement).getBBox();
          return box.width > 0 || box.height > 0;
        });
        return { id: chart.id, marks: drawn.length };
      });
      const boxes: Record<string, { top: number; bottom: number; left: number; right: number } | null> = {};
      for (const selector of selectors) {
        const r = document.querySelector(selector)?.getBoundingClientRect();
        boxes[selector] = r
          ? { top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left + scrollX, right: r.right + scrollX }
          : null;
      }
      return {
        charts,
        boxes,
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      };
    }, options.boxes ?? []);
    mkdirSync(ARTIFACTS, { recursive: true });
    const top = join(ARTIFACTS, `${name}-top.png`);
    const full = join(ARTIFACTS, `${name}-full.png`);
    await page.screenshot({ path: top });
    // A page made very tall on purpose (hostile 10 kB names) may skip the full-page shot.
    await page.screenshot({ path: full, fullPage: options.fullPage ?? true });
    return { consoleErrors, requests: [...requests], ...measured, screenshots: { top, full } };
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
