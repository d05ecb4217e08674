/**
 * The fake MLflow server as a process of its own, for tests where the server must really go away
 * and come back: `--port P --state FILE`. It keeps its records in FILE across restarts (a real
 * server keeps them in its database): loaded at start, written on SIGTERM before it exits.
 * Prints `listening <url>` once it accepts connections.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { FakeMlflowServer } from '../framework/track/fake-mlflow-server.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const port = Number(arg('port') ?? 0);
const state = arg('state');

const server = new FakeMlflowServer();
if (state && existsSync(state)) server.restore(JSON.parse(readFileSync(state, 'utf8')));
const url = await server.start(port);
process.stdout.write(`listening ${url}\n`);

process.on('SIGTERM', () => {
  void server.stop().then(() => {
    if (state) {
      writeFileSync(`${state}.tmp`, JSON.stringify(server.snapshot()));
      renameSync(`${state}.tmp`, state);
    }
    process.exit(0);
  });
});
