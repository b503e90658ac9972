import { fromCredentialsError } from './errors.js';
import type { Credentials } from './types.js';

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
 * reused until five minutes before they expire, and refresh() forces a new fetch.
 */
export function providerCredentials(provider: CredentialProvider): CredentialSource {
  let current: (Credentials & { expiration?: Date }) | undefined;
  let pending: Promise<Credentials> | undefined;
  const fetchFresh = (force: boolean): Promise<Credentials> => {
    pending ??= provider(force ? { forceRefresh: true } : undefined)
      .then(
        (c) => {
          current = c;
          return c;
        },
        (err: unknown) => {
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
