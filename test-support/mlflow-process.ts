/** The fake MLflow server in a process of its own that a test can stop and start again on the same port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { nodeEntry } from './node-entry.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class MlflowProcess {
  private proc: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly stateFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  /** Start it and resolve once it accepts connections. */
  async start(): Promise<void> {
    const proc = spawn(process.execPath, [nodeEntry('test-support/fake-mlflow-process.ts'), '--port', String(this.port), '--state', this.stateFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening ')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`fake MLflow server exited with ${code} before listening`)));
    });
  }

  /** SIGTERM: it writes its records to the state file and exits; resolves once it is gone. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    if (proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }
}
