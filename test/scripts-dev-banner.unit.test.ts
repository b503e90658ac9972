import { loginLines } from '../scripts/dev-banner.js';

describe('npm start banner: how to log in', () => {
  it('says any pair works only when it does (pass-through against the emulator)', () => {
    expect(loginLines({ credentials: 'pass-through', usersFile: '' }, 'http://127.0.0.1:9292').join('\n')).toContain('Any Basic-auth pair works');
  });
  it('with --users-file names the file and never says any pair works', () => {
    const text = loginLines({ credentials: 'chain', usersFile: '/etc/sqs-accelerator/users' }, 'http://127.0.0.1:9292').join('\n');
    expect(text).toContain('Log in as a user of /etc/sqs-accelerator/users');
    expect(text).not.toMatch(/any .*pair works/i);
  });
  it('chain without a users file: no login at all', () => {
    const text = loginLines({ credentials: 'chain', usersFile: '' }, 'http://127.0.0.1:9292').join('\n');
    expect(text).toContain('curl -d message_body=hello http://127.0.0.1:9292/queues/demo');
    expect(text).not.toContain('-u ');
  });
});
