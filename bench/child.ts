import { spawn } from 'node:child_process';
/**
 * Runs `node --import tsx SCRIPT ...args` in a fresh process (its own peak memory, no warm caches) and resolves
 * with the JSON of the last line it prints; rejects, naming `what`, when it fails or prints nothing.
 */
export function runJsonChild(script: string, args: string[], what: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || !line) reject(new Error(`${what}: exit ${code}`));
      else resolve(JSON.parse(line));
    });
  });
}
