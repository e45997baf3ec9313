/**
 * `rlstack plan --html` in a real headless browser: Debian's chromium (test/browser/install.sh) driven by
 * playwright-core, which never downloads a browser. One browser for the whole file. Without
 * /usr/bin/chromium the browser tests are skipped with a message, except in CI, where they must run.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeMap } from '../../src/cli/render-plan.js';
import { listPresets } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import type { LaunchPlan } from '../../src/compiler/plan/types.js';
import { renderPlanHtml, resolvedRows } from '../../src/report/html.js';
import { workspace } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'rlstack.js');
const OUT = join(ROOT, 'test-output');
const CHROMIUM = '/usr/bin/chromium';
const HAVE_BROWSER = existsSync(CHROMIUM);
const IN_CI = Boolean(process.env['CI']);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!HAVE_BROWSER && !IN_CI) {
  console.warn(`plan --html browser tests skipped: ${CHROMIUM} is missing (install it with: bash test/browser/install.sh). In CI they run.`);
}

/** `rlstack plan SPEC --json --html FILE`: the plan JSON and the page from one run of the CLI. */
function planAndPage(spec: string, name: string, sets: string[] = []): { plan: LaunchPlan; file: string; bytes: number; code: number | null } {
  const file = join(OUT, 'html', `${name}.html`);
  const r = spawnSync(process.execPath, [BIN, 'plan', spec, ...sets.flatMap((s) => ['--set', s]), '--json', '--html', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  const json = JSON.parse(r.stdout) as LaunchPlan | { ok: false; plan: LaunchPlan };
  const plan = 'ok' in json && json.ok === false ? json.plan : (json as LaunchPlan);
  return { plan, file, bytes: readFileSync(file).byteLength, code: r.status };
}

const fixed = (v: number) => (v >= 1000 ? v.toFixed(0) : v.toFixed(1));
const tokens = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : String(v));
const ROLE_OF_CLASS: Record<string, string | null> = { gi: 'inference', gt: 'trainer', g0: null };

describe('the HTML page without a browser', () => {
  it('escapes every string from the spec, in the markup and in the embedded hover data', () => {
    const dir = workspace({
      'hostile.toml': `extends = "tiny"\n\n[env]\nRLS_NOTE = "<img src=x onerror=alert(1)>"\n\n[[environments]]\nname = "reverse-text"\ntaskset = "reverse_text"\n[environments.args]\nnote = "</script><script>alert(2)</script>"\n`,
    });
    const r = planSpec(join(dir, 'hostile.toml'));
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const page = renderPlanHtml({ ...r.plan, run: { ...r.plan.run, name: '"><b>run</b>' }, resolved: resolvedRows(r.resolved.spec, r.resolved.provenance), spec_file: 'a<b>.toml' });
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<b>run</b>');
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(page).toContain('&quot;&gt;&lt;b&gt;run&lt;/b&gt;');
    expect(page.match(/<script/g)).toHaveLength(2); // the data block and the page script, nothing injected
    expect(page).not.toMatch(/(src|href)=["']?(https?:)?\/\//); // no network
  });

  it('lists every resolved value with where it came from', () => {
    const r = planSpec(join(ROOT, 'presets', 'i3-mini.toml'), { sets: ['trainer.lm_head_chunk=1024'] });
    if (!r.ok) throw new Error('i3-mini does not plan');
    const rows = resolvedRows(r.resolved.spec, r.resolved.provenance);
    expect(rows).toContainEqual({ key: 'run.name', value: 'i3-mini', origin: expect.stringMatching(/i3-mini\.toml:\d+:\d+$/) });
    expect(rows).toContainEqual({ key: 'trainer.lm_head_chunk', value: 1024, origin: '--set trainer.lm_head_chunk=1024' });
    expect(rows.find((x) => x.key === 'ports.base')).toMatchObject({ origin: 'default' });
    expect(rows.find((x) => x.key === 'environments[1].runtime')).toMatchObject({ value: 'sandbox' });
  });

  it('draws one step as a timeline from plan.throughput: inference, trainer and transfer on one axis', () => {
    const r = planSpec(join(ROOT, 'presets', 'intellect3.toml'));
    if (!r.ok) throw new Error('intellect3 does not plan');
    const t = r.plan.throughput!;
    const page = renderPlanHtml(r.plan);
    const section = /<section id=throughput>[\s\S]*?<\/section>/.exec(page)![0];
    expect(section).toContain(`data-step="${t.step_time_s}" data-bottleneck="${t.bottleneck}" data-mode=overlapped`);
    const phases = (laneId: string) => [...(new RegExp(`id=lane-${laneId}>[\\s\\S]*?<div class=track>([\\s\\S]*?)</div></div>`).exec(section)![1]!.matchAll(/data-kind=(\w+) data-start="([\d.]+)" data-end="([\d.]+)"/g))].map((m) => ({ kind: m[1], start: Number(m[2]), end: Number(m[3]) }));
    const span = (list: { kind?: string; start: number; end: number }[], kind: string) => list.filter((p) => p.kind === kind).reduce((a, p) => a + p.end - p.start, 0);
    expect(span(phases('trainer'), 'train')).toBeCloseTo(t.trainer_s, 6);
    // within the summary's rounding (4 significant figures): the pool generates to the end of the step
    expect(Math.abs(span(phases('inference'), 'generate') - t.generation_s)).toBeLessThanOrEqual(t.step_time_s * 1e-3);
    expect(span(phases('transfer'), 'transfer')).toBeCloseTo(t.weight_transfer_s, 6);
    // the engines pause exactly while the trainer sends the weights
    const pause = phases('inference').find((p) => p.kind === 'paused')!;
    expect([pause.start, pause.end]).toEqual([phases('transfer')[0]!.start, phases('transfer')[0]!.end]);
    expect(section).toContain(`busy ${Math.round(t.inference_busy * 100)} %`);
    expect(section).toContain(`busy ${Math.round(t.trainer_busy * 100)} %`);
    expect(section).toContain('81,990 tokens/s'.replace('81,990', Math.round(t.tokens_per_s).toLocaleString('en-US')));
    expect(section).toContain('median error 3.8 % on 34 measured prime-rl runs');
    const { throughput: _t, memory: _m, ...bare } = r.plan;
    expect(renderPlanHtml(bare)).toContain("<p class=none>No throughput estimate: the model's shape or a GPU type is unknown");
  });

  it('is written even when the plan does not fit (exit 1): the memory report explains why', () => {
    const r = planAndPage('presets/i3-mini.toml', 'i3-mini-does-not-fit', ['trainer.activation_checkpointing="none"', 'trainer.activation_offload=false']);
    expect(r.code).toBe(1);
    const page = readFileSync(r.file, 'utf8');
    expect(page).toContain('RS2001');
    expect(page).toMatch(/class="mem over" id=mem-trainer-gpu/);
  });
});

describe.skipIf(!HAVE_BROWSER && !IN_CI)('plan --html in a real browser', () => {
  let browser: Browser;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    mkdirSync(join(OUT, 'screenshots'), { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (Object.keys(figures).length) writeFileSync(join(OUT, 'html', 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
  });

  /** A page that may load only its own file: any other request fails the test. */
  async function open(file: string): Promise<{ page: Page; requests: string[]; errors: string[]; loadMs: number }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => (m.type() === 'error' ? errors.push(m.text()) : undefined));
    page.on('dialog', (d) => {
      errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    const t0 = performance.now();
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    return { page, requests, errors, loadMs: performance.now() - t0 };
  }

  for (const preset of listPresets()) {
    it(`${preset}: nodes, GPUs, roles, memory and diagnostics as in plan --json`, async () => {
      const { plan, file, bytes } = planAndPage(`presets/${preset}.toml`, preset);
      const { page, requests, errors, loadMs } = await open(file);
      try {
        // title and header: which run, which rlstack
        expect(await page.title()).toBe(`rlstack plan — ${plan.run.name}`);
        expect(await page.textContent('h1')).toContain(`rlstack ${plan.rlstack_version}`);

        // grouped view: the ranges of the text node map
        const groups = await page.$$eval('#grouped .grp', (rows) => rows.map((r) => Number(r.getAttribute('data-count'))));
        expect(groups).toHaveLength(nodeMap(plan).length);
        expect(groups.reduce((a, b) => a + b, 0)).toBe(plan.nodes.length);

        // every node: one tile per node, one cell per GPU, each with its role's colour
        await page.click('#toggle');
        expect(await page.isVisible('#every')).toBe(true);
        expect(await page.isHidden('#grouped')).toBe(true);
        const drawn = await page.$$eval('#every .node', (tiles) => tiles.map((t) => ({ n: Number(t.getAttribute('data-n')), gpus: [...t.querySelectorAll('.gs i')].map((i) => i.classList[0]!) })));
        expect(drawn.map((d) => d.n)).toEqual(plan.nodes.map((n) => n.index));
        expect(drawn.reduce((a, d) => a + d.gpus.length, 0)).toBe(plan.nodes.reduce((a, n) => a + n.gpus.length, 0));
        for (const node of plan.nodes) expect(drawn[node.index]!.gpus.map((c) => ROLE_OF_CLASS[c])).toEqual(node.gpus.map((g) => g.role));
        // a gap marks where the next process's GPUs begin (two TP-4 engines on one node)
        const boundaries = await page.$$eval('#every .node', (tiles) => tiles.map((t) => [...t.querySelectorAll('.gs i')].flatMap((i, k) => (i.classList.contains('b') ? [k] : []))));
        for (const node of plan.nodes) expect(boundaries[node.index]).toEqual(node.gpus.flatMap((g, k) => (k > 0 && g.process !== node.gpus[k - 1]!.process ? [k] : [])));

        // hover a sample of GPUs: the card names the plan's process and its ports
        const samples = plan.nodes.filter((n) => n.gpus.length).flatMap((n) => [n.gpus[0]!, n.gpus[n.gpus.length - 1]!].map((g) => ({ node: n, gpu: g })));
        for (const { node, gpu } of [samples[0], samples[Math.floor(samples.length / 2)], samples[samples.length - 1]].filter((s) => s !== undefined)) {
          await page.hover(`#every .node[data-n="${node.index}"] .gs i:nth-child(${gpu.index + 1})`);
          const card = await page.textContent('#tip');
          expect(card).toContain(`GPU ${gpu.index} · ${gpu.role ?? 'idle'}`);
          if (gpu.process) {
            const proc = plan.processes.find((p) => p.name === gpu.process)!;
            expect(card).toContain(`${proc.name} (${proc.role})`);
            expect(card).toContain(proc.ports.length ? proc.ports.join(', ') : 'none');
          }
        }
        // a node's card lists its processes with their peers
        const master = plan.nodes[plan.roles.trainer.master_node]!;
        await page.hover(`#every .node[data-n="${master.index}"] b`);
        const nodeCard = (await page.textContent('#tip'))!;
        for (const name of master.processes.slice(0, 8)) expect(nodeCard).toContain(name);
        expect(nodeCard).toContain('peers');

        // memory figures against the plan JSON
        const mem = plan.memory!;
        const bar = async (id: string) => page.$eval(`#mem-${id}`, (e) => ({ used: Number(e.getAttribute('data-used')), capacity: Number(e.getAttribute('data-capacity')), text: e.querySelector('.fig')!.textContent }));
        expect(await bar('trainer-gpu')).toEqual({ used: mem.trainer.fit_gib, capacity: mem.trainer.capacity_gib, text: `${fixed(mem.trainer.fit_gib)} / ${fixed(mem.trainer.capacity_gib)} GiB` });
        // A capacity the spec does not declare is unknown: the bar shows the need and says who checks it.
        const capacityText = (c: number | null) => (c === null ? '?' : fixed(c));
        const unknownCapacity = async (id: string) => page.$eval(`#mem-${id}`, (e) => ({ unknown: e.classList.contains('unknown'), note: e.querySelector('.note')?.textContent ?? '' }));
        expect(await bar('trainer-host')).toEqual({ used: mem.trainer.host_gib, capacity: mem.trainer.host_capacity_gib ?? 0, text: `${fixed(mem.trainer.host_gib)} / ${capacityText(mem.trainer.host_capacity_gib)} GiB` });
        if (mem.trainer.host_capacity_gib === null) expect(await unknownCapacity('trainer-host')).toEqual({ unknown: true, note: expect.stringContaining('capacity unknown (not in the spec): each node checks it at start') });
        const trainerSegments = await page.$eval('#mem-trainer-gpu .sl', (e) => e.textContent);
        for (const [key, value] of Object.entries(mem.trainer.breakdown_gib)) if (value > 0) expect(trainerSegments).toContain(`${key} ${fixed(value)}`);
        if (mem.inference) {
          const i = mem.inference;
          const inf = await bar('inference-gpu');
          // the same share as the text report (weights + engine of vLLM's budget), not the GPU's fill with KV
          const taken = Math.round((i.weights_gib + i.overhead_gib) * 100) / 100;
          expect(inf).toMatchObject({ used: taken, capacity: i.budget_gib });
          expect(inf.text).toBe(`weights ${fixed(i.weights_gib)} + engine ${fixed(i.overhead_gib)} = ${fixed(taken)} / ${fixed(i.budget_gib)} GiB; KV cache ${fixed(i.kv_cache_gib)}`);
          const shown = await page.$eval('#mem-inference-gpu .pc', (e) => e.textContent);
          expect(shown).toBe(`${Math.round((taken / i.budget_gib) * 100)} %`);
          expect(await bar('kv')).toEqual({ used: i.inflight_tokens_per_replica, capacity: i.kv_tokens_per_replica, text: `${tokens(i.inflight_tokens_per_replica)} / ${tokens(i.kv_tokens_per_replica)} tokens` });
        }
        expect(await bar('disk')).toEqual({ used: mem.disk.run_dir_gib, capacity: mem.disk.capacity_gib ?? 0, text: `${fixed(mem.disk.run_dir_gib)} / ${capacityText(mem.disk.capacity_gib)} GiB` });
        if (mem.disk.capacity_gib === null) expect((await unknownCapacity('disk')).unknown).toBe(true);
        if (mem.sandboxes.length) {
          const demand = mem.sandboxes.reduce((a, s) => a + s.demand, 0);
          const slots = mem.sandboxes.reduce((a, s) => a + s.slots, 0);
          expect(await bar('sandboxes')).toEqual({ used: demand, capacity: slots, text: `${demand} / ${slots} boxes` });
        } else if (plan.roles.sandboxes) {
          expect(await page.textContent('#mem-sandboxes .fig')).toBe(`~${plan.roles.sandboxes.demand} live boxes at max_inflight`);
        }

        // the step timeline: each phase drawn where plan.throughput puts it, on one axis
        const t = plan.throughput!;
        expect(await page.$eval('#timeline', (e) => Number(e.getAttribute('data-step')))).toBe(t.step_time_s);
        const drawnPhases = await page.$$eval('#timeline .track .ph', (spans) =>
          spans.map((s) => {
            const track = s.parentElement!.getBoundingClientRect();
            const box = s.getBoundingClientRect();
            return { lane: s.closest('.lane')!.id, kind: s.getAttribute('data-kind'), left: (box.left - track.left) / track.width, width: box.width / track.width, start: Number(s.getAttribute('data-start')), end: Number(s.getAttribute('data-end')) };
          }),
        );
        const trainSpan = drawnPhases.find((p) => p.lane === 'lane-trainer' && p.kind === 'train')!;
        expect(trainSpan.width).toBeCloseTo(t.trainer_s / t.step_time_s, 2);
        for (const p of drawnPhases) {
          expect(p.left, `${p.lane} ${p.kind}`).toBeCloseTo(p.start / t.step_time_s, 2);
          expect(p.left + p.width).toBeLessThanOrEqual(1.005);
        }
        expect(await page.textContent('#bottleneck')).toContain(`bottleneck ${t.bottleneck.replace('_', ' ')}`);

        // diagnostics and the resolved spec
        const codes = await page.$$eval('.diag tr:not(:first-child) td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
        expect(codes).toEqual(plan.diagnostics.map((d) => d.code));
        // the header counts every severity it lists (an info beside "0 errors, 0 warnings" read as a contradiction)
        const count = (severity: string) => plan.diagnostics.filter((d) => d.severity === severity).length;
        const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
        expect(await page.$eval('#diagnostic-counts', (e) => e.textContent)).toBe(`${plural(count('error'), 'error')}, ${plural(count('warning'), 'warning')}, ${plural(count('info'), 'info')}`);
        const runName = await page.$$eval('.spec tbody tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)).find((c) => c[0] === 'run.name'));
        expect(runName).toEqual(['run.name', JSON.stringify(plan.run.name), expect.stringContaining(`${preset}.toml:`)]);

        expect(requests).toEqual([]);
        expect(errors).toEqual([]);

        // screenshot: the grouped view with a hover card over a trainer GPU
        await page.click('#toggle');
        await page.hover(`#grouped .grp[data-n="${master.index}"] .gs i:last-child`);
        const shot = join(OUT, 'screenshots', `plan-${preset}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        // The README's picture is refreshed on request only (RLSTACK_UPDATE_SCREENSHOT=1), not by every test run.
        if (preset === 'intellect3' && process.env['RLSTACK_UPDATE_SCREENSHOT']) {
          mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
          const docs = join(ROOT, 'docs', 'images', 'plan-intellect3.png');
          if (!existsSync(docs) || !readFileSync(docs).equals(readFileSync(shot))) copyFileSync(shot, docs);
        }
        figures[preset] = { nodes: plan.nodes.length, bytes, load_ms: Math.round(loadMs) };
      } finally {
        await page.close();
      }
    }, 30_000);
  }

  it('1024 nodes (256 trainer + 768 inference): drawn and answering a hover within 3 s', async () => {
    const { plan, file, bytes } = planAndPage('presets/intellect3.toml', 'intellect3-1024', ['cluster.nodes=1024', 'trainer.nodes=256', 'inference.nodes=768']);
    expect(plan.nodes.filter((n) => n.pool === 'default')).toHaveLength(1024);
    const start = performance.now();
    const { page, errors, loadMs } = await open(file);
    try {
      await page.click('#toggle');
      expect(await page.locator('#every .node').count()).toBe(plan.nodes.length);
      expect(await page.locator('#every .gs i').count()).toBe(1024 * 8);
      const drawnMs = performance.now() - start;
      // the hover: from the pointer move to the card naming the process of that GPU
      const node = plan.nodes[1000]!;
      const before = performance.now();
      await page.hover(`#every .node[data-n="1000"] .gs i:nth-child(4)`);
      await page.waitForFunction((name) => !document.getElementById('tip')!.hidden && document.getElementById('tip')!.textContent!.includes(name), node.gpus[3]!.process!);
      const hoverMs = performance.now() - before;
      // and the page's own share of it, measured inside the page
      const inPageMs = await page.evaluate(() => {
        const cell = document.querySelector('#every .node[data-n="500"] .gs i')!;
        const t = performance.now();
        cell.dispatchEvent(new MouseEvent('mouseover', { bubbles: true, clientX: 10, clientY: 10 }));
        void document.getElementById('tip')!.offsetHeight;
        return performance.now() - t;
      });
      expect(await page.textContent('#tip')).toContain(plan.nodes[500]!.gpus[0]!.process!);
      expect(errors).toEqual([]);
      expect(drawnMs).toBeLessThan(3000);
      expect(hoverMs).toBeLessThan(3000);
      expect(drawnMs + hoverMs).toBeLessThan(3000);
      figures['intellect3-1024'] = { nodes: plan.nodes.length, gpus: 8192, bytes, load_ms: Math.round(loadMs), drawn_ms: Math.round(drawnMs), hover_ms: Math.round(hoverMs), hover_in_page_ms: Math.round(inPageMs * 10) / 10 };
      console.log(`plan --html at 1024 nodes: ${Math.round(bytes / 1024)} KiB, drawn in ${Math.round(drawnMs)} ms, hover answered in ${Math.round(hoverMs)} ms (${inPageMs.toFixed(1)} ms in the page)`);
      await page.screenshot({ path: join(OUT, 'screenshots', 'plan-intellect3-1024.png') });
    } finally {
      await page.close();
    }
  }, 30_000);
});
