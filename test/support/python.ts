/**
 * The machine's Python with boto3 and the AWS CLI 1.x (JSON protocol), and Debian's AWS CLI v2
 * at /usr/bin/aws (Query protocol), for tests of the SQS API with real clients. Missing tools are
 * an error that says what to install, never a skip: .ci/run installs them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (the daemon under test runs in this process). */
export function run(file: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: unknown; killed?: boolean; signal?: string }) | null;
      if (e && (e.killed || e.signal)) {
        reject(new Error(`${file} ${args.slice(0, 4).join(' ')} did not finish within ${timeoutMs} ms (${e.signal ?? 'killed'}); stderr: ${stderr.slice(0, 2000)}`));
        return;
      }
      if (e && typeof e.code !== 'number') {
        reject(new Error(`could not run ${file}: ${e.message}`));
        return;
      }
      resolve({ code: e ? (e.code as number) : 0, stdout, stderr });
    });
  });
}

const PROBE = 'import boto3; print(boto3.__version__)';
const PROBE_CLI = 'import boto3, awscli; print(boto3.__version__, awscli.__version__)';

/**
 * A Python that imports boto3 (and, with `cli`, the AWS CLI 1.x): $SQS_API_TEST_PYTHON, else
 * `python3` on PATH, else pyenv's shim, else /usr/bin/python3. Throws, naming what is missing
 * and what was tried, when none does.
 */
export async function findPython(cli = false): Promise<string> {
  const pyenvRoot = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');
  const candidates = [process.env.SQS_API_TEST_PYTHON, 'python3', join(pyenvRoot, 'shims', 'python3'), '/usr/bin/python3'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const python of candidates) {
    try {
      const r = await run(python, ['-c', cli ? PROBE_CLI : PROBE], { ...(process.env as Record<string, string>) }, 30_000);
      const [boto3, awscli] = r.stdout.trim().split(' ');
      if (r.code === 0 && boto3 && (!cli || awscli?.startsWith('1.'))) return python;
      tried.push(`${python}: ${r.code === 0 ? `awscli ${awscli} is not 1.x` : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.code}`)}`);
    } catch (err) {
      tried.push(`${python}: ${(err as Error).message}`);
    }
  }
  throw new Error(
    `the SQS API client tests need a Python with boto3${cli ? " and the AWS CLI 1.x (pip install 'awscli<2')" : ' (apt-get install python3-boto3)'}, or SQS_API_TEST_PYTHON naming one. Tried:\n  ${tried.join('\n  ')}`,
  );
}

/** Debian's AWS CLI v2 (the `awscli` package), which still speaks the Query protocol. */
export async function findDebianAwsCli(): Promise<{ aws: string; version: string }> {
  const aws = '/usr/bin/aws';
  if (!existsSync(aws)) throw new Error(`the Query protocol tests need Debian's AWS CLI v2 at ${aws}: apt-get install awscli (.ci/run does)`);
  const r = await run(aws, ['--version'], { PATH: '/usr/bin:/bin', HOME: homedir() }, 60_000);
  const version = /aws-cli\/(\S+)/.exec(r.stdout + r.stderr)?.[1];
  if (r.code !== 0 || !version) throw new Error(`${aws} --version failed (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
  return { aws, version };
}
