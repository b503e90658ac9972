import type { Logger } from 'pino';
import { fromCredentialsError } from './errors.js';
import type { Credentials } from './types.js';

/** What is known of the daemon's own credentials (chain mode), for /readyz and the logs. */
export type CredentialState = 'unknown' | 'ok' | 'unavailable' | 'refused';

/**
 * Where a destination's credentials come from. Pass-through: the caller's Basic-auth
 * pair, fixed. Daemon: the AWS default provider chain, refreshed when SQS says so.
 */
export interface CredentialSource {
  /** Part of cache keys. For pass-through it contains the secret: use only as a Map key, never log it. */
  readonly key: string;
  readonly refreshable: boolean;
  get(): Credentials | Promise<Credentials>;
  /** Forget cached credentials so the next get() fetches fresh ones. */
  refresh(): Promise<void>;
  /** Chain mode: the state of the daemon's credentials and why (never a secret). */
  health?(): { state: CredentialState; detail: string };
  /** Chain mode: SQS refused these credentials (code), or accepted a request signed with them (undefined). */
  noteAnswer?(refusedCode: string | undefined): void;
}

export function staticCredentials(credentials: Credentials): CredentialSource {
  const frozen = Object.freeze({ ...credentials });
  return {
    key: `s\0${frozen.accessKeyId}\0${frozen.secretAccessKey}\0${frozen.sessionToken ?? ''}`,
    refreshable: false,
    get: () => frozen,
    refresh: async () => {},
  };
}

export type CredentialProvider = (options?: { forceRefresh?: boolean }) => Promise<Credentials & { expiration?: Date }>;

/**
 * Wraps an AWS SDK provider (e.g. fromNodeProviderChain()) with caching: credentials are
 * reused until five minutes before they expire, and refresh() forces a new fetch. With a `log`,
 * each change of state is logged once: credentials that cannot be had (with the provider's
 * reason, e.g. "Could not load credentials from any providers"), refused by SQS, or fine again.
 */
export function providerCredentials(provider: CredentialProvider, log?: Logger): CredentialSource {
  let current: (Credentials & { expiration?: Date }) | undefined;
  let pending: Promise<Credentials> | undefined;
  let state: CredentialState = 'unknown';
  let detail = '';
  const setState = (next: CredentialState, why: string): void => {
    if (next === state && why === detail) return;
    const was = state;
    state = next;
    detail = why;
    if (next === 'unavailable') log?.warn({ reason: why }, '--credentials chain: no AWS credentials can be had; sends get 503 CredentialsUnavailable until they can');
    else if (next === 'refused') log?.warn({ code: why }, '--credentials chain: SQS refuses the daemon\'s AWS credentials; fetching them again before each retry');
    else if (next === 'ok' && was !== 'unknown') log?.info('--credentials chain: AWS credentials available and accepted again');
  };
  const fetchFresh = (force: boolean): Promise<Credentials> => {
    pending ??= provider(force ? { forceRefresh: true } : undefined)
      .then(
        (c) => {
          current = c;
          if (state === 'unavailable' || state === 'unknown') setState('ok', '');
          return c;
        },
        (err: unknown) => {
          const e = err as { name?: unknown; message?: unknown };
          setState('unavailable', `${typeof e?.name === 'string' ? e.name : 'Error'}: ${typeof e?.message === 'string' ? e.message.slice(0, 300) : 'unknown'}`);
          throw fromCredentialsError(err);
        },
      )
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  return {
    key: 'chain',
    refreshable: true,
    health: () => ({ state, detail }),
    noteAnswer(refusedCode) {
      if (refusedCode !== undefined) setState('refused', refusedCode);
      else if (state === 'refused') setState('ok', '');
    },
    get() {
      if (current && (!current.expiration || current.expiration.getTime() - Date.now() > 300_000)) return current;
      return fetchFresh(false);
    },
    async refresh() {
      current = undefined;
      await fetchFresh(true);
    },
  };
}
