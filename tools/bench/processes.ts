// What the benchmarks share: where the repository is, how the bot is built and started as its Procfile
// says, and starting and stopping the targets' processes.
import { type ChildProcess, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../../../..');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Procfile's `web:` command: the bot is started exactly as the host starts it. */
export function procfileWeb(): string {
  const procfile = fs.readFileSync(path.join(REPO, 'Procfile'), 'utf8');
  const web = /^web:\s*(.+)$/m.exec(procfile)?.[1]?.trim();
  if (!web) throw new Error('the Procfile has no web: line');
  return web;
}

/** Compile src/ into dist/ as the deploy does (`npm run build`), so the Procfile's command finds it built. */
export function buildForProcfile(): void {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [REPO] });
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(REPO, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`npm run build failed (${result.status})`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
