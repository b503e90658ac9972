import { EXIT } from '../errors.js';

/** `hash-password NAME`: reads the password from stdin (never argv: it would show in ps) and prints a users-file line. */
export async function hashPasswordCommand(argv: readonly string[]): Promise<number> {
  const name = argv[0];
  if (!name || argv.length !== 1 || !/^[^:\s]+$/.test(name)) {
    process.stderr.write('usage: sqs-accelerator hash-password NAME   (password on standard input; prints a --users-file line)\n');
    return EXIT.badConfig;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password === '') {
    process.stderr.write('sqs-accelerator hash-password: empty password on standard input\n');
    return EXIT.badConfig;
  }
  const { hashPassword } = await import('../http/users.js');
  process.stdout.write(`${hashPassword(name, password)}\n`);
  return EXIT.ok;
}
