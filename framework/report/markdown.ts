/**
 * report.md: the study's result in text, readable on GitHub. Every user-written string goes through
 * escapeMd; the tables are tables.ts' model, laid out as Markdown here.
 */
import { CLAIM_HEAD, CLAIMS_NOTE, claimRows } from './claims-table.js';
import { escapeMd as md } from './escape.js';
import { probeMarkdown } from './probes.js';
import type { Summary } from './summary.js';
import { comparisonsTable, epochTable, onnxTable, runsTable, variantsTable, type Markup, type Table } from './tables.js';
import { verdict } from './wording.js';

/** A code span: backslashes are literal inside, so only backticks and table pipes need care. */
const code = (x: string) => `\`${x.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')}\``;

const MARKUP: Markup = { text: md, code, em: md };

function table({ head, rows }: Table): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

export function renderMarkdown(s: Summary, o: { htmlFile?: string } = {}): string {
  const out: string[] = [];
  out.push(`# Study report: ${md(s.experiment)}`, '');
  if (s.description) out.push(md(s.description), '');
  const finished = s.runs.filter((r) => r.status === 'FINISHED').length;
  out.push(
    `Generated ${s.generated_at} from ${s.runs.length} runs (${finished} finished) of config ${code(s.config_sha256.slice(0, 12))}. ` +
      `Reference variant: **${md(s.reference)}**. Accuracies are on the test set; 95% CIs use the t distribution across seeds.` +
      (o.htmlFile ? ` Charts and live in-browser predictions: [${md(o.htmlFile)}](${o.htmlFile}).` : ''),
    '',
  );

  if (s.claims?.length) {
    out.push('## Claims', '', ...table({ head: CLAIM_HEAD, rows: claimRows(s.claims, md, (c) => `**${c.verdict}**`) }), '');
    for (const c of s.claims) out.push(`- **${md(c.name)}** ${md(c.reason)}`);
    out.push('', CLAIMS_NOTE, '');
  }

  out.push('## Verdict', '');
  if (!s.comparisons.length) out.push('Only one variant: nothing to compare.', '');
  for (const c of s.comparisons) out.push(`- ${verdict(c, md)}`);
  if (s.comparisons.length) out.push('');

  out.push('## Variants', '', ...table(variantsTable(s, MARKUP)), '');

  if (s.comparisons.length) out.push('## Comparisons with the reference', '', ...table(comparisonsTable(s, MARKUP)), '');

  out.push('## Per-epoch test accuracy and loss', '', 'Mean across seeds, with the 95% CI of test accuracy in brackets.', '', ...table(epochTable(s, MARKUP)), '');

  const onnx = onnxTable(s, MARKUP);
  out.push('## ONNX parity', '');
  if (!onnx.rows.length) out.push('No run was exported to ONNX.', '');
  else out.push('Each finished run was exported to ONNX and re-evaluated with onnxruntime on the same test set.', '', ...table(onnx), '');

  out.push('## Runs', '', ...table(runsTable(s, MARKUP)), '');

  if (s.probes?.length) {
    const missing = s.runs.filter((r) => r.status === 'FINISHED' && !r.probes).length;
    out.push(...probeMarkdown(s.probes, missing, md));
  }

  const e = s.environment;
  out.push(
    '## Environment',
    '',
    `- Backend: ${md(e.backend)}`,
    `- CPU: ${md(e.cpu)} (${e.cores} cores)`,
    `- Node: ${md(e.node)} on ${md(e.platform)}`,
    ...Object.entries(e.versions).map(([k, v]) => `- ${md(k)}: ${md(v)}`),
    `- Tracking: ${md(s.tracking_uri)}`,
    '',
  );
  const d = s.dataset;
  out.push(
    '## Dataset',
    '',
    `- ${md(d.name)} from ${md(d.source)}`,
    `- Digest: ${code(d.digest)}`,
    `- Classes: ${d.class_names.map(md).join(', ')}`,
  );
  if (d.approximate_split)
    out.push(
      '- **Approximate split:** the train/test split is not the dataset\'s official one, so compare variants within this study, not with published results.',
    );
  out.push('');
  return out.join('\n');
}
