/**
 * Failover upstreams' configuration (issue 17): `--failover-region` (repeatable),
 * `--failover-endpoint` (repeatable), or an `upstreams` list in the config file whose entries are
 * `{"region", "endpoint", "profile", "name"}` (any of region or endpoint, both allowed). They come
 * after the primary (`--region` / `--endpoint`), in the order given. Validated once here, naming
 * the entry and field; src/config.ts wraps the message in its ConfigError.
 */

/** One upstream: an SQS region or SQS-compatible endpoint, in failover order (0 = the primary). */
export interface UpstreamConfig {
  /** Shown in /status, the UI, /metrics labels and logs: the region, or the endpoint's host:port, or the file's "name". */
  readonly name: string;
  /** Signing region. */
  readonly region: string;
  /** Endpoint origin; '' = the region's AWS endpoint. */
  readonly endpoint: string;
  /** Chain mode: AWS shared-config profile whose credentials sign this upstream's requests; '' = the daemon's own chain. */
  readonly profile: string;
}

export class UpstreamConfigError extends Error {
  readonly code = 'EUPSTREAMCONFIG';
  override readonly name = 'UpstreamConfigError';
}

/** At most this many upstreams in all (primary included): each has its own connection pool. */
export const MAX_UPSTREAMS = 10;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const PROFILE = /^[A-Za-z0-9_.@+-]{1,64}$/;
const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const KEYS = new Set(['region', 'endpoint', 'profile', 'name']);

function endpointOrigin(raw: string, where: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UpstreamConfigError(`${where}: endpoint must be a URL like https://sqs.eu-west-1.amazonaws.com; got ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UpstreamConfigError(`${where}: endpoint must use http or https; got ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new UpstreamConfigError(`${where}: endpoint must not carry a user or password`);
  return url.origin;
}

/** The primary as an upstream (from --region / --endpoint). */
export function primaryUpstream(region: string, endpoint: string): UpstreamConfig {
  const origin = endpoint === '' ? '' : new URL(endpoint).origin;
  return Object.freeze({ name: origin === '' ? region : new URL(origin).host, region, endpoint: origin, profile: '' });
}

function fromObject(value: unknown, index: number, primaryRegion: string): UpstreamConfig {
  const at = `upstreams entry ${index + 1}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UpstreamConfigError(`${at}: must be an object like {"region": "eu-central-1"} or {"endpoint": "https://...", "profile": "dr"}`);
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new UpstreamConfigError(`${at}: unknown field ${JSON.stringify(k.slice(0, 60))}; allowed: ${[...KEYS].join(', ')}`);
  for (const k of KEYS) if (o[k] !== undefined && typeof o[k] !== 'string') throw new UpstreamConfigError(`${at}: ${k} must be a string; got ${JSON.stringify(o[k])}`);
  const region = (o.region as string | undefined)?.trim() ?? '';
  const endpointRaw = (o.endpoint as string | undefined)?.trim() ?? '';
  if (region === '' && endpointRaw === '') throw new UpstreamConfigError(`${at}: needs a region, an endpoint, or both`);
  if (region !== '' && !REGION.test(region)) throw new UpstreamConfigError(`${at}: region must look like eu-west-1; got ${JSON.stringify(region)}`);
  const endpoint = endpointRaw === '' ? '' : endpointOrigin(endpointRaw, at);
  const profile = (o.profile as string | undefined)?.trim() ?? '';
  if (profile !== '' && !PROFILE.test(profile)) throw new UpstreamConfigError(`${at}: profile must be a profile name (letters, digits, _.@+-); got ${JSON.stringify(profile.slice(0, 80))}`);
  const name = (o.name as string | undefined)?.trim() || (endpoint === '' ? region : new URL(endpoint).host);
  if (!NAME.test(name)) throw new UpstreamConfigError(`${at}: name must be 1-64 letters, digits or _.:-; got ${JSON.stringify(name.slice(0, 80))}`);
  return Object.freeze({ name, region: region || primaryRegion, endpoint, profile });
}

/**
 * The failover upstreams after the primary: from the config file's `upstreams` (a JSON array as
 * text), or from the flags' regions and endpoints (regions first, then endpoints, each in the
 * order given). Both at once is an error: the order between them would be a guess.
 */
export function parseUpstreams(
  raw: { file: string; regions: readonly string[]; endpoints: readonly string[] },
  primary: UpstreamConfig,
  credentials: 'pass-through' | 'chain',
): readonly UpstreamConfig[] {
  const text = raw.file.trim();
  let list: UpstreamConfig[];
  if (text !== '' && text !== '[]') {
    if (raw.regions.length > 0 || raw.endpoints.length > 0) throw new UpstreamConfigError('give the failover upstreams either as "upstreams" (config file, --upstreams) or as --failover-region / --failover-endpoint, not both');
    let items: unknown;
    try {
      items = JSON.parse(text);
    } catch {
      throw new UpstreamConfigError('upstreams must be a JSON array of {"region", "endpoint", "profile", "name"} objects');
    }
    if (!Array.isArray(items)) throw new UpstreamConfigError('upstreams must be a JSON array of {"region", "endpoint", "profile", "name"} objects');
    list = items.map((v, i) => fromObject(v, i, primary.region));
  } else {
    list = [];
    for (const r of raw.regions) {
      if (!REGION.test(r)) throw new UpstreamConfigError(`--failover-region must look like eu-west-1; got ${JSON.stringify(r)}`);
      list.push(Object.freeze({ name: r, region: r, endpoint: '', profile: '' }));
    }
    // An endpoint alone signs with the primary's region (an SQS-compatible service rarely cares).
    for (const e of raw.endpoints) {
      const origin = endpointOrigin(e, '--failover-endpoint');
      list.push(Object.freeze({ name: new URL(origin).host, region: primary.region, endpoint: origin, profile: '' }));
    }
  }
  if (list.length + 1 > MAX_UPSTREAMS) throw new UpstreamConfigError(`at most ${MAX_UPSTREAMS - 1} failover upstreams (each has its own connection pool); got ${list.length}`);
  const names = new Set([primary.name]);
  const targets = new Set([target(primary)]);
  for (const u of list) {
    if (targets.has(target(u))) throw new UpstreamConfigError(`upstream ${JSON.stringify(u.name)} is the same region or endpoint as an earlier one`);
    if (names.has(u.name)) throw new UpstreamConfigError(`upstream name ${JSON.stringify(u.name)} is used twice (give a "name" in the config file's upstreams)`);
    if (u.profile !== '' && credentials !== 'chain') throw new UpstreamConfigError(`upstream ${JSON.stringify(u.name)}: profile only applies with --credentials chain (in pass-through mode each caller's own key pair signs for every upstream)`);
    names.add(u.name);
    targets.add(target(u));
  }
  return Object.freeze(list);
}

const target = (u: UpstreamConfig): string => (u.endpoint === '' ? `region:${u.region}` : `endpoint:${u.endpoint}`);
