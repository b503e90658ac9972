/**
 * The unit tier's own rule (jest.config.js): a *.unit.test.ts file runs no child process and
 * loads neither fauxqs nor a browser. These fail if the guards in the config stop applying.
 */
import { execFileSync, spawn } from 'node:child_process';

describe('the unit tier', () => {
  it('refuses to start child processes', () => {
    expect(() => spawn(process.execPath, ['-e', '0'])).toThrow(/spawn\(\) is not allowed in the unit tier/);
    expect(() => execFileSync(process.execPath, ['-e', '0'])).toThrow(/not allowed in the unit tier/);
  });

  it('refuses to load fauxqs and playwright-core', async () => {
    await expect(import('fauxqs')).rejects.toThrow(/not allowed in the unit tier/);
    await expect(import('playwright-core')).rejects.toThrow(/not allowed in the unit tier/);
  });
});
