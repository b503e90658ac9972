import type { Context } from 'koa';
import basicAuth from 'basic-auth';
import type { Config } from '../config.js';
import { type CredentialSource, staticCredentials } from '../sqs/credentials.js';
import { BASIC_CHALLENGE, HttpError } from './errors.js';
import type { LocalUsers } from './users.js';

const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/;

/**
 * Who signs this request's SQS calls. Pass-through: the Basic-auth pair (user = access key
 * id, password = secret, optional X-Amz-Security-Token header). Chain: the daemon's own.
 * The secret is never put in an error message.
 */
export function credentialsFor(
  ctx: Context,
  deps: { config: Pick<Config, 'credentials'>; daemonCredentials?: CredentialSource | undefined; localUsers?: LocalUsers | undefined },
): CredentialSource {
  const { config, daemonCredentials: daemon, localUsers } = deps;
  if (config.credentials === 'chain' && daemon) {
    if (localUsers) checkLocalUser(ctx, localUsers);
    return daemon;
  }
  const header = ctx.get('authorization');
  if (header === '') {
    throw new HttpError(401, 'MissingCredentials', 'send AWS credentials with HTTP Basic auth: user = access key id, password = secret access key', {
      headers: { 'www-authenticate': BASIC_CHALLENGE },
    });
  }
  const parsed = basicAuth.parse(header);
  if (!parsed || parsed.name === '' || parsed.pass === '') {
    throw new HttpError(401, 'MalformedCredentials', 'the Authorization header is not HTTP Basic with a non-empty user and password', {
      headers: { 'www-authenticate': BASIC_CHALLENGE },
    });
  }
  if (!ACCESS_KEY_ID.test(parsed.name)) {
    throw new HttpError(401, 'MalformedCredentials', 'the Basic-auth user must be an AWS access key id (letters and digits)', {
      headers: { 'www-authenticate': BASIC_CHALLENGE },
    });
  }
  const token = ctx.get('x-amz-security-token');
  return staticCredentials(token ? { accessKeyId: parsed.name, secretAccessKey: parsed.pass, sessionToken: token } : { accessKeyId: parsed.name, secretAccessKey: parsed.pass });
}

/** --credentials chain with --users-file: Basic auth is a local access check. */
function checkLocalUser(ctx: Context, users: LocalUsers): void {
  const parsed = basicAuth.parse(ctx.get('authorization'));
  if (!parsed) {
    throw new HttpError(401, 'MissingCredentials', 'this daemon signs with its own AWS credentials; log in with a local user from its --users-file', {
      headers: { 'www-authenticate': BASIC_CHALLENGE },
    });
  }
  if (!users.check(parsed.name, parsed.pass)) {
    throw new HttpError(401, 'InvalidLocalUser', 'unknown local user or wrong password', { headers: { 'www-authenticate': BASIC_CHALLENGE } });
  }
}
