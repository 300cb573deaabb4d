/** Reads a password without putting it on the command line (where `ps` and shell history see it). */
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { AppError } from '../core/errors.js';

/**
 * First line of piped stdin, or a prompt with echo switched off on a terminal. `missing`: the
 * error when stdin gives nothing (what to give, and how).
 */
export async function readSecret(prompt: string, missing: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) {
      text += String(chunk);
      if (text.includes('\n')) break;
    }
    const line = text.split(/\r?\n/)[0] ?? '';
    if (!line) throw new AppError('BAD_REQUEST', missing);
    return line;
  }
  let muted = false;
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = readline.createInterface({ input: stdin, output: out, terminal: true });
  try {
    process.stderr.write(prompt);
    muted = true;
    const answer = await new Promise<string>((resolve) => rl.question('', resolve));
    process.stderr.write('\n');
    return answer;
  } finally {
    rl.close();
  }
}
