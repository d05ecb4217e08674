/**
 * index.html: the report as a page that works offline from file://. Tables (tables.ts' model, the
 * same as report.md's) and verdicts are rendered here (escaped, readable without JavaScript); charts and the demo are drawn by CLIENT_JS
 * from one JSON block embedded with jsonForScript. Scripts load from assets/ beside the page.
 */
import { buildCharts } from './charts.js';
import { buildHeatmaps } from './heatmaps.js';
import { probeCharts } from './probes.js';
import { CLAIM_HEAD, CLAIMS_NOTE, claimRows } from './claims-table.js';
import { CLIENT_JS } from './client.js';
import { escapeHtml as h, jsonForScript } from './escape.js';
import type { Preprocessing } from './onnx-meta.js';
import type { Summary } from './summary.js';
import { comparisonsTable, epochTable, onnxTable, runsTable, variantsTable, type Markup, type Table } from './tables.js';
import { verdict } from './wording.js';

/** What the page's demo needs, all inline (base64), so file:// needs no fetch. */
export interface DemoPage {
  /** Folder of onnxruntime-web's files, relative to the page, ending in '/'. */
  ort_dir: string;
  /** n * height * width * channels uint8 pixels (NHWC), base64. */
  images: string;
  labels: number[];
  class_names: string[];
  height: number;
  width: number;
  channels: number;
  models: {
    variant: string;
    /** Which run this model is: `batchnorm [train.optimizer.lr=0.01] seed 1 (run 0123...)`. */
    run: string;
    /** Path of the .onnx beside the page (for download). */
    file: string;
    /** Model bytes, base64. */
    model: string;
    input_name: string;
    output_name: string;
    layout: 'flat' | 'nchw';
    preprocessing: Preprocessing;
  }[];
}

/** Scripts the page loads, relative to it (write.ts copies them there). */
export const PAGE_SCRIPTS = {
  vega: 'assets/vega.min.js',
  vegaLite: 'assets/vega-lite.min.js',
  vegaEmbed: 'assets/vega-embed.min.js',
  ort: 'assets/ort/ort.wasm.min.js',
};

const MARKUP: Markup = { text: h, code: (x) => `<code>${h(x)}</code>`, em: (x) => `<em>${h(x)}</em>` };

function table({ head, rows }: Table): string {
  return `<table><thead><tr>${head.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1180px;padding:0 20px 40px;color:#1d232b;background:#fff}
h1{margin:28px 0 4px}h2{margin-top:36px;border-bottom:1px solid #e2e6ea;padding-bottom:4px}
.meta{color:#5b6570;font-size:13px}.desc{font-size:17px}
.verdicts li{margin:6px 0}
#claims td:first-child{white-space:normal;min-width:260px}
.claim-supported{color:#18794e}.claim-refuted{color:#c0362c}.claim-inconclusive{color:#8a6d00}
table{border-collapse:collapse;font-size:13px;margin:8px 0;display:block;overflow-x:auto}
th,td{border:1px solid #e2e6ea;padding:4px 8px;text-align:left;white-space:nowrap}th{background:#f5f7f9}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}
.chart{min-height:280px}
.warn{background:#fff7e0;border:1px solid #f0d48a;padding:6px 10px;border-radius:4px}
#demo-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.card{margin:0;border:1px solid #e2e6ea;border-radius:6px;padding:8px;font-size:12px}
.card canvas{width:84px;height:84px;image-rendering:pixelated;display:block;margin:0 auto 4px;border:1px solid #eee}
.truth{font-weight:600}.preds{list-style:none;padding:0;margin:2px 0 0}.ok{color:#18794e}.bad{color:#c0362c}
.variant{color:#5b6570}
`;

export function renderHtml(s: Summary, demo?: DemoPage): string {
  const charts = buildCharts(s);
  const heatmaps = buildHeatmaps(s);
  const probes = probeCharts(s.probes ?? []);
  const claimsSection = s.claims?.length
    ? `<section id="claims"><h2>Claims</h2>${table({ head: CLAIM_HEAD, rows: claimRows(s.claims, h, (c) => `<strong class="claim-${c.verdict}">${c.verdict}</strong>`) })}<ul class="verdicts">${s.claims
        .map((c) => `<li><strong>${h(c.name)}</strong> ${h(c.reason)}</li>`)
        .join('')}</ul><p class="meta">${h(CLAIMS_NOTE)}</p></section>`
    : '';
  const heatmapSection = heatmaps.length
    ? `<section id="heatmaps"><h2>Across the matrix</h2><div class="charts">${heatmaps.map((c) => `<div id="${c.id}" class="chart" role="img" aria-label="${h(c.title)}"></div>`).join('')}</div></section>`
    : '';
  const probeSection = probes.length
    ? `<section id="probes"><h2>Training dynamics (probes)</h2><p class="meta">Per Dense/Conv2D layer, mean across seeds on each run's fixed probe batch; step 0 is the initial model.</p><div class="charts">${probes.map((c) => `<div id="${c.id}" class="chart" role="img" aria-label="${h(c.title)}"></div>`).join('')}</div></section>`
    : '';
  const verdicts = s.comparisons.map((c) => `<li>${verdict(c, h)}</li>`).join('');
  const variantsTbl = table(variantsTable(s, MARKUP));
  const comparisonsTbl = s.comparisons.length ? table(comparisonsTable(s, MARKUP)) : '<p>Only one variant: nothing to compare.</p>';
  const epochTbl = table(epochTable(s, MARKUP));
  const onnx = onnxTable(s, MARKUP);
  const onnxTbl = onnx.rows.length ? table(onnx) : '<p>No run was exported to ONNX.</p>';
  const runsTbl = table(runsTable(s, MARKUP));
  const e = s.environment;
  const d = s.dataset;
  const env = [
    ['Backend', e.backend],
    ['CPU', `${e.cpu} (${e.cores} cores)`],
    ['Node', `${e.node} on ${e.platform}`],
    ...Object.entries(e.versions),
    ['Tracking', s.tracking_uri],
  ]
    .map(([k, v]) => `<li>${h(k)}: ${h(v)}</li>`)
    .join('');
  // Which run each variant's predictions come from is always said; with several runs per variant
  // (a matrix study) the reader picks one per variant (the page's script fills #demo-pick).
  const firstOf = new Map<string, DemoPage['models'][number]>();
  for (const m of demo?.models ?? []) if (!firstOf.has(m.variant)) firstOf.set(m.variant, m);
  const demoSection = demo
    ? `<section id="demo"><h2>Live predictions</h2>
<p>Exported ONNX models classify ${demo.labels.length} test images right here in the browser. Shown: <span id="demo-shown">${[...firstOf.values()]
        .map((m) => `<a href="${h(m.file)}">${h(m.run)}</a>`)
        .join('; ')}</span>.</p>
<div id="demo-pick"></div>
<p id="demo-status" class="meta">Waiting for the charts…</p><ul id="demo-totals"></ul><div id="demo-grid"></div></section>`
    : '';
  const pageData = { charts: [...charts, ...heatmaps, ...probes].map((c) => ({ id: c.id, spec: c.spec })), demo: demo ?? null };

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${h(s.experiment)} · bnx study report</title>
<style>${STYLE}</style>
<script src="${PAGE_SCRIPTS.vega}"></script>
<script src="${PAGE_SCRIPTS.vegaLite}"></script>
<script src="${PAGE_SCRIPTS.vegaEmbed}"></script>
${demo ? `<script src="${PAGE_SCRIPTS.ort}"></script>` : ''}
</head>
<body>
<header>
<h1>${h(s.experiment)}</h1>
${s.description ? `<p class="desc">${h(s.description)}</p>` : ''}
<p class="meta">Generated ${h(s.generated_at)} · config <code>${h(s.config_sha256.slice(0, 12))}</code> · ${s.runs.length} runs · reference variant <strong>${h(s.reference)}</strong> · accuracies on the test set, 95% CIs from the t distribution across seeds</p>
</header>
${claimsSection}
<section id="verdict"><h2>Verdict</h2>${verdicts ? `<ul class="verdicts">${verdicts}</ul>` : '<p>Only one variant: nothing to compare.</p>'}</section>
<section id="charts"><h2>Learning curves</h2><div class="charts">${charts.map((c) => `<div id="${c.id}" class="chart" role="img" aria-label="${h(c.title)}"></div>`).join('')}</div></section>
${heatmapSection}
${probeSection}
<section id="variants"><h2>Variants</h2>${variantsTbl}</section>
<section id="comparisons"><h2>Comparisons with the reference</h2>${comparisonsTbl}</section>
${demoSection}
<section id="epochs"><h2>Per epoch</h2><p class="meta">Mean across seeds.</p>${epochTbl}</section>
<section id="onnx"><h2>ONNX parity</h2>${onnxTbl}</section>
<section id="runs"><h2>Runs</h2>${runsTbl}</section>
<section id="environment"><h2>Environment</h2><ul>${env}</ul></section>
<section id="dataset"><h2>Dataset</h2><ul><li>${h(d.name)} from ${h(d.source)}</li><li>Digest: <code>${h(d.digest)}</code></li><li>Classes: ${d.class_names.map(h).join(', ')}</li></ul>
${d.approximate_split ? `<p class="warn"><strong>Approximate split:</strong> the train/test split is not the dataset's official one, so compare variants within this study, not with published results.</p>` : ''}</section>
<script type="application/json" id="bnx-data">${jsonForScript(pageData)}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}
