import type { Config } from '../src/config.js';

/** How to log in, as this configuration really checks it (a users file means only its users get in). */
export function loginLines(c: Pick<Config, 'credentials' | 'usersFile'>, url: string): string[] {
  if (c.credentials === 'chain' && c.usersFile) {
    return [
      `  Demo queues: demo, demo.fifo. Log in as a user of ${c.usersFile} (the daemon signs with its own credentials), e.g.:`,
      `    curl -u NAME:PASSWORD -d message_body=hello ${url}/queues/demo`,
    ];
  }
  if (c.credentials === 'chain') {
    return ['  Demo queues: demo, demo.fifo. No login: without --users-file any local process may use the daemon\'s credentials, e.g.:', `    curl -d message_body=hello ${url}/queues/demo`];
  }
  return ['  Demo queues: demo, demo.fifo. Any Basic-auth pair works against the emulator, e.g.:', `    curl -u AKIDEXAMPLE:secret -d message_body=hello ${url}/queues/demo`];
}
