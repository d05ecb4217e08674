/**
 * report.md: the study's result in text, readable on GitHub. Every user-written string goes through
 * escapeMd; numbers are formatted here only.
 */
import { CLAIM_HEAD, CLAIMS_NOTE, claimRows } from './claims-table.js';
import { escapeMd as md } from './escape.js';
import type { Describe } from './stats.js';
import { probeMarkdown } from './probes.js';
import type { Summary } from './summary.js';
import { cellText, fmtCi, fmtInterval, fmtP, fmtPct, fmtPoints, verdict } from './wording.js';

const pct = (x: number | null) => fmtPct(x);
const num = (x: number | null, digits = 3) => (x === null ? 'n/a' : x.toFixed(digits));
const meanStd = (d: Describe, f: (x: number) => string, stdF: (x: number) => string) =>
  d.mean === null ? 'n/a' : d.std === null ? f(d.mean) : `${f(d.mean)} ± ${stdF(d.std)}`;
const ciOf = (d: Describe, f: (x: number) => string) => fmtCi(d, f);
const pctF = (x: number) => `${(x * 100).toFixed(1)}%`;
const ptsF = (x: number) => (x * 100).toFixed(1);
const lossF = (x: number) => x.toFixed(3);
const secsF = (x: number) => `${x.toFixed(1)} s`;

/** A code span: backslashes are literal inside, so only backticks and table pipes need care. */
const code = (x: string) => `\`${x.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')}\``;

function table(head: string[], rows: string[][]): string[] {
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
    out.push('## Claims', '', ...table(CLAIM_HEAD, claimRows(s.claims, md, (c) => `**${c.verdict}**`)), '');
    for (const c of s.claims) out.push(`- **${md(c.name)}** ${md(c.reason)}`);
    out.push('', CLAIMS_NOTE, '');
  }

  out.push('## Verdict', '');
  if (!s.comparisons.length) out.push('Only one variant: nothing to compare.', '');
  for (const c of s.comparisons) out.push(`- ${verdict(c, md)}`);
  if (s.comparisons.length) out.push('');

  out.push('## Variants', '');
  out.push(
    ...table(
      ['Variant', 'n', 'Test accuracy (mean ± std)', '95% CI', 'Test loss (mean ± std)', '95% CI', 'Seconds per run', 'Runs finished / total'],
      s.variants.map((v) => [
        md(v.group) + (v.is_reference ? ' (reference)' : ''),
        String(v.final_test_accuracy.n),
        meanStd(v.final_test_accuracy, pctF, ptsF),
        ciOf(v.final_test_accuracy, pctF),
        meanStd(v.final_test_loss, lossF, lossF),
        ciOf(v.final_test_loss, lossF),
        v.seconds_per_run.mean === null ? 'n/a' : secsF(v.seconds_per_run.mean),
        `${v.runs.finished} / ${v.runs.total}`,
      ]),
    ),
    '',
  );

  if (s.comparisons.length) {
    out.push('## Comparisons with the reference', '');
    out.push(
      ...table(
        ['Variant', 'Reference', 'Δ accuracy (points)', '95% CI', 'p (Welch)', 't', 'df', 'Δ test loss', 'p (loss)', 'Epochs to reference accuracy', 'Time vs reference'],
        s.comparisons.map((c) => [
          md(c.group),
          md(c.reference_group),
          c.test_accuracy.diff === null ? 'n/a' : fmtPoints(c.test_accuracy.diff),
          fmtInterval(c.test_accuracy.ci95, fmtPoints),
          fmtP(c.test_accuracy.p).replace(/^p [=<] ?/, (m) => (m.includes('<') ? '< ' : '')),
          num(c.test_accuracy.t, 2),
          num(c.test_accuracy.df, 1),
          c.test_loss.diff === null ? 'n/a' : `${c.test_loss.diff >= 0 ? '+' : '−'}${Math.abs(c.test_loss.diff).toFixed(3)}`,
          fmtP(c.test_loss.p).replace(/^p [=<] ?/, (m) => (m.includes('<') ? '< ' : '')),
          c.epochs_to_reference_accuracy === null ? 'not reached' : `${c.epochs_to_reference_accuracy}${c.reference_epochs ? ` of ${c.reference_epochs}` : ''}`,
          c.seconds_per_run.ratio === null ? 'n/a' : `${c.seconds_per_run.ratio.toFixed(2)}×`,
        ]),
      ),
      '',
    );
  }

  out.push('## Per-epoch test accuracy and loss', '', 'Mean across seeds, with the 95% CI of test accuracy in brackets.', '');
  const maxEpochs = [...new Set(s.variants.flatMap((v) => v.epochs.map((e) => e.epoch)))].sort((a, b) => a - b);
  out.push(
    ...table(
      ['Epoch', ...s.variants.flatMap((v) => [`${md(v.group)} test acc`, `${md(v.group)} test loss`, `${md(v.group)} train loss`])],
      maxEpochs.map((epoch) => [
        String(epoch),
        ...s.variants.flatMap((v) => {
          const e = v.epochs.find((x) => x.epoch === epoch);
          if (!e) return ['', '', ''];
          const acc = e.test_accuracy;
          return [
            acc.mean === null ? 'n/a' : `${pctF(acc.mean)}${acc.ci95 ? ` [${ptsF(acc.ci95.low)}, ${ptsF(acc.ci95.high)}]` : ''}`,
            num(e.test_loss.mean),
            num(e.train_loss.mean),
          ];
        }),
      ]),
    ),
    '',
  );

  const withOnnx = s.variants.filter((v) => v.onnx);
  out.push('## ONNX parity', '');
  if (!withOnnx.length) out.push('No run was exported to ONNX.', '');
  else
    out.push(
      'Each finished run was exported to ONNX and re-evaluated with onnxruntime on the same test set.',
      '',
      ...table(
        ['Variant', 'Runs exported', 'Max \\|ONNX − TF.js\\| output', 'Max accuracy gap', 'Min prediction agreement', 'ONNX test accuracy (mean)'],
        withOnnx.map((v) => [
          md(v.group),
          String(v.onnx!.n),
          v.onnx!.max_abs_diff.toExponential(2),
          `${(v.onnx!.max_accuracy_gap * 100).toFixed(2)} points`,
          v.onnx!.min_prediction_agreement === null ? 'n/a' : pct(v.onnx!.min_prediction_agreement),
          pct(v.onnx!.test_accuracy.mean),
        ]),
      ),
      '',
    );

  out.push('## Runs', '');
  out.push(
    ...table(
      ['Run key', 'Variant', 'Seed', 'Status', 'Backend', 'Seconds', 'Final test accuracy', 'MLflow run'],
      s.runs.map((r) => {
        const last = r.epochs.length ? r.epochs.reduce((a, b) => (b.epoch > a.epoch ? b : a)) : undefined;
        const cell = Object.keys(r.matrix ?? {}).length ? ` [${cellText(r.matrix)}]` : '';
        return [
          code(r.key),
          md(r.variant + cell),
          String(r.seed),
          r.status + (r.reason ? `: ${md(r.reason)}` : ''),
          md(r.backend ?? 'n/a'),
          r.seconds === null ? 'n/a' : r.seconds.toFixed(1),
          last && Number.isFinite(last.test_accuracy) ? pctF(last.test_accuracy) : 'n/a',
          r.mlflow_run_id ? code(r.mlflow_run_id) : 'n/a',
        ];
      }),
    ),
    '',
  );

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
