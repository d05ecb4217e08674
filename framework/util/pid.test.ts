import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pidAlive } from './pid.js';

describe('pidAlive', () => {
  it('is true for this process and a running child, false for nonsense and a finished child', async () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(0)).toBe(false);
    expect(pidAlive(-5)).toBe(false);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    expect(pidAlive(child.pid!)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(pidAlive(child.pid!)).toBe(false);
  });

  it.runIf(process.platform === 'linux')('treats a killed process that is not yet reaped (a zombie) as dead', async () => {
    // `exec sleep` replaces the shell, and sleep never reaps its child: the killed child stays a zombie.
    const holder = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((r) => holder.stdout.once('data', (d: Buffer) => r(d.toString().trim()))));
      expect(pidAlive(pid)).toBe(true);
      // Kill only once the shell has become `sleep`: a shell still running might reap its child itself.
      for (let i = 0; i < 500 && readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim() !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 10));
      process.kill(pid, 'SIGKILL');
      let state = '';
      for (let i = 0; i < 100 && state !== 'Z'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0]!;
      }
      expect(state).toBe('Z');
      expect(pidAlive(pid)).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
