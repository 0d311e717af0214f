// Starts `tessera serve` for the node-driven end-to-end tests (tests/console, tests/sdk): the
// configuration file is the caller's (port 0), and the port is read from the line
// "listening on http://127.0.0.1:PORT". Everything the server prints is collected for diagnostics.
import { spawn } from 'node:child_process';

// Resolves to { child, port } once the server listens; rejects when it exits or takes over 30 s.
// `onOutput(chunk)` receives everything the server prints, before and after.
export function startTesseraProcess(binary, configPath, onOutput) {
  const child = spawn(binary, ['serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tessera did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      onOutput(String(chunk));
      const match = output.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => reject(new Error(`cannot start ${binary}: ${error.message}`)));
    child.on('exit', (code) => reject(new Error(`tessera exited with ${code}:\n${output}`)));
  });
}
