import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetterDir, type DeadLetterFile } from '../../src/spool/dead-letters.js';
import { deadLettersCommand } from '../../src/commands/dead-letters.js';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.js';

const SECRET = 'dl-secret/abc+123';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out: () => out.join(''), err: () => err.join('') };
}

function letter(id: string, queueName: string, extra: Partial<DeadLetterFile> = {}): DeadLetterFile {
  return {
    id,
    queueName,
    queueUrl: `http://127.0.0.1:1/000000000000/${queueName}`,
    accessKeyId: 'AKIDDL',
    body: `body of ${id}`,
    attributes: { kind: { DataType: 'String', StringValue: 'k' } },
    code: 'QueueDoesNotExist',
    reason: 'The specified queue does not exist.',
    attempts: 3,
    acceptedAt: 1_700_000_000_000,
    firstAttemptAt: 1_700_000_000_001,
    lastAttemptAt: 1_700_000_000_500,
    deadAt: 1_700_000_001_000 + Number(id.replace(/\D/g, '') || 0),
    credentials: { accessKeyId: 'AKIDDL', secretAccessKey: SECRET },
    ...extra,
  };
}

describe('sqs-accelerator dead-letters', () => {
  let dir: string;
  let store: DeadLetterDir;
  let fake: FakeSqs;
  /** The letters on disk now, as a fresh reader sees them (the CLI ran as another process would: `store`'s index learns of its removals only at its next walk). */
  const onDisk = (): string[] => new DeadLetterDir(dir).ids();

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['orders', 'other', 'jobs.fifo', { name: 'cbd.fifo', attributes: { ContentBasedDeduplication: 'true' } }] });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dl-cli-'));
    store = new DeadLetterDir(dir);
    await store.write(letter('a-1', 'orders'));
    await store.write(letter('a-2', 'orders', { delaySeconds: 3 }));
    await store.write(letter('b-3', 'jobs.fifo', { groupId: 'g1', dedupId: 'dedup-b-3', code: 'AccessDenied' }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('letters are 0600 files in a 0700 directory', () => {
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(store.dir)) expect(statSync(join(store.dir, f)).mode & 0o777).toBe(0o600);
  });

  test('list shows every letter oldest first, filters by queue, and never prints credentials', async () => {
    const c = capture();
    expect(await deadLettersCommand(['list', '--spool-dir', dir], {}, c.io)).toBe(0);
    const lines = c.out().trim().split('\n');
    expect(lines).toHaveLength(4); // header + 3
    expect(lines[1]).toContain('a-1');
    expect(lines[3]).toContain('b-3');
    expect(lines[3]).toContain('AccessDenied');
    expect(c.out()).not.toContain(SECRET);

    const j = capture();
    expect(await deadLettersCommand(['list', '--spool-dir', dir, '--queue', 'orders', '--json'], {}, j.io)).toBe(0);
    const parsed = JSON.parse(j.out()) as { total: number; items: Array<Record<string, unknown>> };
    expect(parsed.total).toBe(2);
    expect(parsed.items.map((i) => i.id)).toEqual(['a-1', 'a-2']);
    expect(parsed.items[0]).not.toHaveProperty('credentials');
    expect(j.out()).not.toContain(SECRET);
  });

  test('show prints one letter in full without credentials; an unknown id exits 1', async () => {
    const c = capture();
    expect(await deadLettersCommand(['show', 'b-3', '--spool-dir', dir, '--json'], {}, c.io)).toBe(0);
    const shown = JSON.parse(c.out()) as Record<string, unknown>;
    expect(shown).toMatchObject({ id: 'b-3', queueName: 'jobs.fifo', groupId: 'g1', dedupId: 'dedup-b-3', code: 'AccessDenied', attempts: 3 });
    expect(c.out()).not.toContain(SECRET);
    const missing = capture();
    expect(await deadLettersCommand(['show', 'nope', '--spool-dir', dir], {}, missing.io)).toBe(1);
    expect(missing.err()).toContain('no dead letter with id nope');
  });

  test('purge needs --yes, then removes only what was named', async () => {
    const c = capture();
    expect(await deadLettersCommand(['purge', 'a-1', '--spool-dir', dir], {}, c.io)).toBe(2);
    expect(c.err()).toContain('--yes');
    expect(onDisk()).toHaveLength(3);
    expect(await deadLettersCommand(['purge', 'a-1', '--yes', '--spool-dir', dir], {}, capture().io)).toBe(0);
    expect(onDisk()).toEqual(['a-2', 'b-3']);
    expect(await deadLettersCommand(['purge', '--all', '--queue', 'jobs.fifo', '--yes', '--spool-dir', dir], {}, capture().io)).toBe(0);
    expect(onDisk()).toEqual(['a-2']);
  });

  test('replay sends with every field and the stored credentials, then removes the letter', async () => {
    fake.reset();
    const c = capture();
    expect(await deadLettersCommand(['replay', '--all', '--spool-dir', dir, '--endpoint', fake.endpoint], {}, c.io)).toBe(0);
    expect(c.out()).toContain('replayed 3 of 3');
    expect(onDisk()).toEqual([]);
    const orders = fake.messages('orders');
    expect(orders.map((m) => m.body).sort()).toEqual(['body of a-1', 'body of a-2']);
    expect(orders[0]?.attributes).toEqual({ kind: { DataType: 'String', StringValue: 'k' } });
    expect(orders[0]?.accessKeyId).toBe('AKIDDL');
    const fifo = fake.messages('jobs.fifo');
    expect(fifo).toHaveLength(1);
    expect(fifo[0]).toMatchObject({ body: 'body of b-3', groupId: 'g1', dedupId: 'dedup-b-3' });
  });

  test('replay of FIFO letters without a deduplication id (older daemons): re-derived, so SQS takes them', async () => {
    fake.reset();
    await store.write(letter('c-4', 'jobs.fifo', { groupId: 'g1' }));
    await store.write(letter('c-5', 'cbd.fifo', { groupId: 'g1' }));
    const c = capture();
    expect(await deadLettersCommand(['replay', 'c-4', 'c-5', '--spool-dir', dir, '--endpoint', fake.endpoint], {}, c.io)).toBe(0);
    expect(c.out()).toContain('replayed 2 of 2');
    // No content-based deduplication: the letter's own id; with it, SQS's content hash (what SQS would compute).
    expect(fake.messages('jobs.fifo').map((m) => m.dedupId)).toEqual(['c-4']);
    expect(fake.messages('cbd.fifo').map((m) => m.dedupId)).toEqual([createHash('sha256').update('body of c-5').digest('hex')]);
  });

  test('replay to another queue with --to-queue; a failure keeps the letter and exits 1', async () => {
    fake.reset();
    const ok = capture();
    expect(await deadLettersCommand(['replay', 'a-1', '--to-queue', 'other', '--spool-dir', dir, '--endpoint', fake.endpoint], {}, ok.io)).toBe(0);
    expect(fake.bodies('other')).toEqual(['body of a-1']);
    const bad = capture();
    expect(await deadLettersCommand(['replay', 'a-2', '--to-queue', 'missing-queue', '--spool-dir', dir, '--endpoint', fake.endpoint], {}, bad.io)).toBe(1);
    expect(bad.err()).toContain('QueueDoesNotExist');
    expect(bad.err()).not.toContain(SECRET);
    expect(onDisk()).toContain('a-2');
  });

  test('bad usage exits 2 with a message: no upstream for replay, unknown command, missing spool dir', async () => {
    const noUpstream = capture();
    expect(await deadLettersCommand(['replay', 'a-1', '--spool-dir', dir], {}, noUpstream.io)).toBe(2);
    expect(noUpstream.err()).toContain('--region');
    const unknown = capture();
    expect(await deadLettersCommand(['frobnicate', '--spool-dir', dir], {}, unknown.io)).toBe(2);
    expect(unknown.err()).toContain('unknown command');
    const missing = capture();
    expect(await deadLettersCommand(['list', '--spool-dir', join(dir, 'nope')], {}, missing.io)).toBe(2);
    expect(missing.err()).toContain('does not exist');
  });

  test('reads the daemon\'s options as the daemon does: --config, SQS_ACCELERATOR_CONFIG, precedence', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ endpoint: fake.endpoint, spoolDir: dir, logLevel: 'info' }));
    const listed = capture();
    expect(await deadLettersCommand(['list', '--config', file], {}, listed.io)).toBe(0);
    expect(listed.out()).toContain('a-1');
    // Under systemd the unit names the file in the environment; replay finds the upstream there (it used to ask for --region).
    fake.reset();
    const replayed = capture();
    expect(await deadLettersCommand(['replay', 'a-1'], { SQS_ACCELERATOR_CONFIG: file }, replayed.io)).toBe(0);
    expect(fake.bodies('orders')).toEqual(['body of a-1']);
    // A flag wins over the file, as for the daemon.
    const elsewhere = capture();
    expect(await deadLettersCommand(['list', '--config', file, '--spool-dir', join(dir, 'nope')], {}, elsewhere.io)).toBe(2);
    expect(elsewhere.err()).toContain('does not exist');
    // Options are checked by the same loader: an unknown key in the file or a bad value is named.
    writeFileSync(file, JSON.stringify({ spoolDir: dir, lingerMz: 5 }));
    const bad = capture();
    expect(await deadLettersCommand(['list', '--config', file], {}, bad.io)).toBe(2);
    expect(bad.err()).toContain('unknown option "lingerMz"');
    const badFlag = capture();
    expect(await deadLettersCommand(['list', '--spool-dir', dir, '--linger-ms', 'soon'], {}, badFlag.io)).toBe(2);
    expect(badFlag.err()).toContain('--linger-ms');
  });

});
