/**
 * The report's tables as data, one model for both renderers: report.md (markdown.ts) and index.html
 * (html.ts) lay out the same head and cells. What differs between the formats is only the markup of a
 * cell: how user-written text is escaped, how code and emphasis look (`Markup`). Numbers are
 * formatted here only.
 */
import type { Describe } from './stats.js';
import type { Summary } from './summary.js';
import { cellText, fmtCi, fmtInterval, fmtP, fmtPct, fmtPoints } from './wording.js';

/** A table: header cells and rows of cells, already in the target markup. */
export interface Table {
  head: string[];
  rows: string[][];
}

/** A target format's cell markup; `text` escapes user-written (or any literal) text. */
export interface Markup {
  text(s: string): string;
  code(s: string): string;
  em(s: string): string;
}

const pctF = (x: number) => `${(x * 100).toFixed(1)}%`;
const ptsF = (x: number) => (x * 100).toFixed(1);
const lossF = (x: number) => x.toFixed(3);
const num = (x: number | null, digits: number) => (x === null ? 'n/a' : x.toFixed(digits));
const meanStd = (d: Describe, f: (x: number) => string, stdF: (x: number) => string) =>
  d.mean === null ? 'n/a' : d.std === null ? f(d.mean) : `${f(d.mean)} ± ${stdF(d.std)}`;
/** A p value as a cell under a "p" header: `0.031`, `< 0.001`, `n/a`. */
const pCell = (p: number | null) => fmtP(p).replace(/^p [=<] ?/, (m) => (m.includes('<') ? '< ' : ''));
const head = (m: Markup, cells: string[]) => cells.map((c) => m.text(c));

export function variantsTable(s: Summary, m: Markup): Table {
  return {
    head: head(m, ['Variant', 'n', 'Test accuracy (mean ± std)', '95% CI', 'Test loss (mean ± std)', '95% CI', 'Seconds per run', 'Runs finished / total']),
    rows: s.variants.map((v) => [
      m.text(v.group) + (v.is_reference ? ` ${m.em('(reference)')}` : ''),
      String(v.final_test_accuracy.n),
      meanStd(v.final_test_accuracy, pctF, ptsF),
      fmtCi(v.final_test_accuracy, pctF),
      meanStd(v.final_test_loss, lossF, lossF),
      fmtCi(v.final_test_loss, lossF),
      v.seconds_per_run.mean === null ? 'n/a' : `${v.seconds_per_run.mean.toFixed(1)} s`,
      `${v.runs.finished} / ${v.runs.total}`,
    ]),
  };
}

export function comparisonsTable(s: Summary, m: Markup): Table {
  return {
    head: head(m, ['Variant', 'Reference', 'Δ accuracy (points)', '95% CI', 'p (Welch)', 't', 'df', 'Δ test loss', 'p (loss)', 'Epochs to reference accuracy', 'Time vs reference']),
    rows: s.comparisons.map((c) => [
      m.text(c.group),
      m.text(c.reference_group),
      c.test_accuracy.diff === null ? 'n/a' : fmtPoints(c.test_accuracy.diff),
      fmtInterval(c.test_accuracy.ci95, fmtPoints),
      m.text(pCell(c.test_accuracy.p)),
      num(c.test_accuracy.t, 2),
      num(c.test_accuracy.df, 1),
      c.test_loss.diff === null ? 'n/a' : `${c.test_loss.diff >= 0 ? '+' : '−'}${Math.abs(c.test_loss.diff).toFixed(3)}`,
      m.text(pCell(c.test_loss.p)),
      c.epochs_to_reference_accuracy === null ? 'not reached' : `${c.epochs_to_reference_accuracy}${c.reference_epochs ? ` of ${c.reference_epochs}` : ''}`,
      c.seconds_per_run.ratio === null ? 'n/a' : `${c.seconds_per_run.ratio.toFixed(2)}×`,
    ]),
  };
}

/** Per epoch, for each variant: mean test accuracy [its 95% CI], mean test loss, mean train loss. */
export function epochTable(s: Summary, m: Markup): Table {
  const epochs = [...new Set(s.variants.flatMap((v) => v.epochs.map((e) => e.epoch)))].sort((a, b) => a - b);
  return {
    head: ['Epoch', ...s.variants.flatMap((v) => [`${m.text(v.group)} ${m.text('test acc [95% CI]')}`, `${m.text(v.group)} test loss`, `${m.text(v.group)} train loss`])],
    rows: epochs.map((epoch) => [
      String(epoch),
      ...s.variants.flatMap((v) => {
        const e = v.epochs.find((x) => x.epoch === epoch);
        if (!e) return ['', '', ''];
        const a = e.test_accuracy;
        return [
          a.mean === null ? 'n/a' : `${pctF(a.mean)}${a.ci95 ? ` [${pctF(a.ci95.low)}, ${pctF(a.ci95.high)}]` : ''}`,
          num(e.test_loss.mean, 3),
          num(e.train_loss.mean, 3),
        ];
      }),
    ]),
  };
}

/** Variants with exported runs; empty rows when none was exported. */
export function onnxTable(s: Summary, m: Markup): Table {
  return {
    head: head(m, ['Variant', 'Runs exported', 'Max |ONNX − TF.js| output', 'Max accuracy gap', 'Min prediction agreement', 'ONNX test accuracy (mean)']),
    rows: s.variants.flatMap((v) =>
      v.onnx
        ? [[
            m.text(v.group),
            String(v.onnx.n),
            v.onnx.max_abs_diff.toExponential(2),
            `${(v.onnx.max_accuracy_gap * 100).toFixed(2)} points`,
            v.onnx.min_prediction_agreement === null ? 'n/a' : fmtPct(v.onnx.min_prediction_agreement),
            fmtPct(v.onnx.test_accuracy.mean),
          ]]
        : [],
    ),
  };
}

export function runsTable(s: Summary, m: Markup): Table {
  return {
    head: head(m, ['Run key', 'Variant', 'Seed', 'Status', 'Backend', 'Seconds', 'Final test accuracy', 'MLflow run']),
    rows: s.runs.map((r) => {
      const last = r.epochs.length ? r.epochs.reduce((a, b) => (b.epoch > a.epoch ? b : a)) : undefined;
      const cell = Object.keys(r.matrix ?? {}).length ? ` [${cellText(r.matrix)}]` : '';
      return [
        m.code(r.key),
        m.text(r.variant + cell),
        String(r.seed),
        m.text(r.status + (r.reason ? `: ${r.reason}` : '')),
        m.text(r.backend ?? 'n/a'),
        r.seconds === null ? 'n/a' : r.seconds.toFixed(1),
        last && Number.isFinite(last.test_accuracy) ? pctF(last.test_accuracy) : 'n/a',
        r.mlflow_run_id ? m.code(r.mlflow_run_id) : 'n/a',
      ];
    }),
  };
}
