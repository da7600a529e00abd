// How long the infra tests' plan-time rendering takes, against the parse it is built on.
//   node --import tsx bench/infra/render.bench.ts [runs]
// Baseline: hcl2json parsing every .tf file of infra/ (what any HCL check must pay).
// Measured: loading + rendering production (parse, expressions, evaluation of 115 resources),
// and the security rules and cost estimate over the result. Medians of `runs` (default 7).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from '@cdktf/hcl2json';
import { estimateMonthlyCost, loadPriceTable } from '../../scripts/lib/cost.ts';
import { toPlanJson } from '../../test/infra/plan-json.ts';
import { DEPLOY_VARS, INFRA, renderProduction } from '../../test/infra/production.ts';
import { checkRules } from '../../test/infra/rules.ts';

const runs = Number(process.argv[2] ?? 7);

function tfFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tfFiles(join(dir, e.name)) : e.name.endsWith('.tf') ? [join(dir, e.name)] : []));
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const files = tfFiles(INFRA).map((f) => [f, readFileSync(f, 'utf8')] as const);

const heap0 = process.memoryUsage().heapUsed;
const parseOnly = await time(async () => {
  for (const [name, text] of files) await parse(name, text);
});
const firstRender = performance.now();
const rendered = await renderProduction();
const firstRenderMs = performance.now() - firstRender;
const render = await time(() => renderProduction());
const rulesAndCost = await time(async () => {
  checkRules(rendered);
  estimateMonthlyCost(toPlanJson(rendered, DEPLOY_VARS) as never, loadPriceTable());
});
const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;

const base = median(parseOnly);
const row = (name: string, ms: number) => `| ${name} | ${ms.toFixed(1)} | ${(ms / base).toFixed(2)} |`;
console.log(`${files.length} .tf files, ${rendered.resources.length} resources, ${runs} runs each (median)\n`);
console.log('| step | ms | ratio to parse-only |');
console.log('|---|---:|---:|');
console.log(row('parse every .tf file (baseline)', base));
console.log(row('render production, first (cold expression cache)', firstRenderMs));
console.log(row('render production, again (warm cache)', median(render)));
console.log(row('security rules + cost estimate', median(rulesAndCost)));
console.log(`\nheap growth over the whole run: ${heapMb.toFixed(1)} MiB`);
