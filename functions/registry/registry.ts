/**
 * The model registry: which models exist, where their files are, how they run and what they cost.
 * A name resolves by id (latest version), `id@version`, or alias; parsing fails with one clear reason.
 */
export const TASKS = ['text-classification', 'text-generation', 'feature-extraction'] as const;
export const RUNTIMES = ['edge-wasm', 'gpu-upstream'] as const;
export type Task = (typeof TASKS)[number];
export type Runtime = (typeof RUNTIMES)[number];
/**
 * Jurisdictions an upstream can be in and a key can be pinned to (functions/privacy/policy.ts): the EU, the US, and
 * single countries with data-residency rules of their own (uk, ch, ca, au, jp, in, sg, br).
 */
export const REGIONS = ['eu', 'us', 'uk', 'ch', 'ca', 'au', 'jp', 'in', 'sg', 'br'] as const;
export type Region = (typeof REGIONS)[number];

export interface Price {
  requestMicroUsd: number;
  inputTokenMicroUsd: number;
  outputTokenMicroUsd: number;
  /**
   * A classification answered from the exact-match cache: this flat price, no token charges (no inference ran).
   * Absent from the registry: the model's per-request fee (pricing.ts), so a hit never costs more than a miss would.
   */
  cacheRequestMicroUsd?: number;
}

/** An OpenAI-compatible server that runs a gpu-upstream model, and the model's name there. */
export interface Upstream {
  /** Base URL without /v1; "embedded" is the generation server that `npm start` runs itself. */
  url: string;
  model: string;
  /**
   * Set for a service that scales to zero: how long it takes to wake. While it is down the router answers 503
   * `upstream_warming` with this as Retry-After, instead of 502s.
   */
  warmupSeconds?: number;
  /** The jurisdiction the server runs in; a key pinned to a region is only sent to upstreams of that region. */
  region?: Region;
}

export interface ModelEntry {
  id: string;
  version: string;
  task: Task;
  runtime: Runtime;
  /** Folder under models/ (edge-wasm), with the files it needs and their sha256. */
  folder?: string;
  onnx?: string;
  files: Record<string, string>;
  labels: string[];
  maxTokens: number;
  maxBatch: number;
  aliases: string[];
  price: Price;
  /** gpu-upstream: the servers to try, in order (failover). */
  upstreams: Upstream[];
}

/** The canonical name of one model version: `id@version`. */
export const modelRef = (m: Pick<ModelEntry, 'id' | 'version'>): string => `${m.id}@${m.version}`;

export class RegistryError extends Error {
  override name = 'RegistryError';
}

type Json = Record<string, unknown>;

function field<T>(entry: Json, key: string, where: string, check: (v: unknown) => v is T, what: string): T {
  const value = entry[key];
  if (!check(value)) throw new RegistryError(`${where}: "${key}" must be ${what}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isPrice = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isSha256 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const oneOf = <T extends string>(values: readonly T[]) => (v: unknown): v is T => values.includes(v as T);

function parseUpstreams(raw: unknown, where: string): Upstream[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new RegistryError(`${where}: a gpu-upstream model needs a non-empty "upstreams" list`);
  return raw.map((u: unknown, i) => {
    const upstream = (u ?? {}) as Json;
    const url = field(upstream, 'url', `${where} upstreams[${i}]`, isString, 'an http(s) base URL or "embedded"');
    if (url !== 'embedded' && !/^https?:\/\/[^/]+/.test(url)) throw new RegistryError(`${where} upstreams[${i}]: "url" must be an http(s) base URL or "embedded"`);
    const parsed: Upstream = { url: url.replace(/\/+$/, ''), model: field(upstream, 'model', `${where} upstreams[${i}]`, isString, "the model's name on that server") };
    if (upstream.warmup_seconds !== undefined) parsed.warmupSeconds = field(upstream, 'warmup_seconds', `${where} upstreams[${i}]`, isPositive, 'a positive number of seconds');
    if (upstream.region !== undefined) parsed.region = field(upstream, 'region', `${where} upstreams[${i}]`, oneOf(REGIONS), `one of ${REGIONS.join(', ')}`);
    return parsed;
  });
}

function parseEntry(raw: unknown, index: number): ModelEntry {
  if (typeof raw !== 'object' || raw === null) throw new RegistryError(`models[${index}] must be an object`);
  const entry = raw as Json;
  const id = field(entry, 'id', `models[${index}]`, isString, 'a non-empty string');
  const where = `model ${id}`;
  const runtime = field(entry, 'runtime', where, oneOf(RUNTIMES), `one of ${RUNTIMES.join(', ')}`);
  const files = (entry.files ?? {}) as Json;
  for (const [path, sha] of Object.entries(files)) {
    if (!isSha256(sha)) throw new RegistryError(`${where}: files["${path}"] must be a lowercase hex sha256`);
  }
  const price = (entry.price ?? {}) as Json;
  const parsed: ModelEntry = {
    id,
    version: String(field(entry, 'version', where, (v): v is string | number => isString(v) || isCount(v), 'a version')),
    task: field(entry, 'task', where, oneOf(TASKS), `one of ${TASKS.join(', ')}`),
    runtime,
    files: files as Record<string, string>,
    labels: entry.labels === undefined ? [] : field(entry, 'labels', where, isStrings, 'a list of label names'),
    maxTokens: field(entry, 'max_tokens', where, isCount, 'a positive integer'),
    maxBatch: entry.max_batch === undefined ? 1 : field(entry, 'max_batch', where, isCount, 'a positive integer'),
    aliases: entry.aliases === undefined ? [] : field(entry, 'aliases', where, isStrings, 'a list of names'),
    upstreams: [],
    price: {
      requestMicroUsd: field(price, 'request_micro_usd', `${where} price`, isPrice, 'a number >= 0'),
      inputTokenMicroUsd: field(price, 'input_token_micro_usd', `${where} price`, isPrice, 'a number >= 0'),
      outputTokenMicroUsd: field(price, 'output_token_micro_usd', `${where} price`, isPrice, 'a number >= 0'),
    },
  };
  if (price.cache_request_micro_usd !== undefined) parsed.price.cacheRequestMicroUsd = field(price, 'cache_request_micro_usd', `${where} price`, isPrice, 'a number >= 0');
  if (runtime === 'edge-wasm') {
    parsed.folder = field(entry, 'folder', where, isString, 'the model folder under models/');
    parsed.onnx = field(entry, 'onnx', where, isString, 'the ONNX file inside the folder');
    if (!(parsed.onnx in files)) throw new RegistryError(`${where}: files must list its ONNX file ${parsed.onnx} with a sha256`);
  }
  if (runtime === 'gpu-upstream') parsed.upstreams = parseUpstreams(entry.upstreams, where);
  if (parsed.task === 'text-classification' && parsed.labels.length < 2) {
    throw new RegistryError(`${where}: a text-classification model needs at least two labels`);
  }
  // An encoder whose vectors fine-tuned heads are trained on: it runs beside the heads, and answers no route itself.
  if (parsed.task === 'feature-extraction') {
    if (runtime !== 'edge-wasm') throw new RegistryError(`${where}: a feature-extraction model must be edge-wasm`);
    if (parsed.labels.length > 0) throw new RegistryError(`${where}: a feature-extraction model has no labels`);
  }
  return parsed;
}

export class Registry {
  private readonly byName = new Map<string, ModelEntry>();

  constructor(readonly models: ModelEntry[], readonly defaultName: string) {
    const claim = (name: string, entry: ModelEntry) => {
      const other = this.byName.get(name);
      if (other && other !== entry) throw new RegistryError(`the name "${name}" is used by ${modelRef(other)} and ${modelRef(entry)}`);
      this.byName.set(name, entry);
    };
    // Latest version first, so a bare id resolves to it.
    const ordered = [...models].sort((a, b) => b.version.localeCompare(a.version, 'en', { numeric: true }));
    for (const entry of ordered) {
      claim(modelRef(entry), entry);
      if (!this.byName.has(entry.id)) this.byName.set(entry.id, entry);
    }
    for (const entry of models) for (const alias of entry.aliases) claim(alias, entry);
    const fallback = this.byName.get(defaultName);
    if (!fallback) throw new RegistryError(`the default model "${defaultName}" is not in the registry`);
    // The default answers a request that names no model: an encoder answers none.
    if (fallback.task === 'feature-extraction') throw new RegistryError(`the default model "${defaultName}" is a feature-extraction model, which serves no request`);
  }

  static parse(value: unknown): Registry {
    const json = value as { default?: unknown; models?: unknown };
    if (typeof json !== 'object' || json === null || !Array.isArray(json.models) || json.models.length === 0) {
      throw new RegistryError('the registry needs a non-empty "models" list');
    }
    if (!isString(json.default)) throw new RegistryError('the registry needs a "default" model name');
    return new Registry(json.models.map(parseEntry), json.default);
  }

  /** By id, id@version or alias; undefined names the default model. */
  resolve(name?: string): ModelEntry | undefined {
    return this.byName.get(name ?? this.defaultName);
  }

  /** A copy whose "embedded" upstreams point at `url`: the generation server this deployment runs. */
  withEmbeddedUpstream(url: string): Registry {
    const models = this.models.map((m) => ({ ...m, upstreams: m.upstreams.map((u) => (u.url === 'embedded' ? { ...u, url: url.replace(/\/+$/, '') } : u)) }));
    return new Registry(models, this.defaultName);
  }

  /** Every name that resolves (ids, id@version, aliases); with a task, only the names of that task's models. */
  names(task?: Task): string[] {
    return [...this.byName.entries()].filter(([, m]) => task === undefined || m.task === task).map(([name]) => name).sort();
  }
}
