/**
 * The drill's HTTP client: what an attacker's script (or a browser and its page) holds — a cookie jar,
 * the CSRF token the last JSON answer handed out — and nothing else. It talks to the server over a
 * real socket, like anyone on the network; it never touches Rempart's modules or database. Each
 * request carries the client's address in X-Forwarded-For (the drill's server trusts its loopback
 * proxy: drill/workstations.ts) and its browser's User-Agent.
 * Every request is counted on a tally, which also watches what came back: persons (any `id` or
 * `personId` in the answer of a route under /persons) with the fields received for each, a session
 * raised to the second factor, the first answer of the guard other than allow, and the first sign of
 * a suspension.
 */
import { DEFAULT_BROWSER, type Workstation } from './workstations.ts';

/** The header carrying the session's CSRF token on state-changing requests (docs/API.md). */
export const CSRF_HEADER = 'x-csrf-token';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request and its answer, as the drill records it. */
export interface Exchange {
  method: Method;
  /** The URL path requested (path parameters substituted). */
  path: string;
  /** The route pattern it was aimed at (`/api/v1/persons/{id}`), or the path itself. */
  route: string;
  status: number;
  /** The problem+json `code` of a refusal, if any. */
  code: string | undefined;
  /** The parsed JSON answer, or the text, or undefined for an empty body. */
  body: unknown;
  /** Seconds from the Retry-After header (a throttled answer), if any. */
  retryAfter?: number;
}

/** The guard's graded answers other than allow (issue 5): 429, a step-up on a read, a suspension. */
export type GuardResponse = 'throttle' | 'step_up' | 'suspend';

/**
 * The guard's answer in an exchange, if any: a 429 (`throttled`, with Retry-After), an
 * `account_suspended` refusal, or `step_up_required` on a route under /persons or /work-items, or an
 * export's production (`/produce`) — the guard runs in the gate. Elsewhere `step_up_required` is the older rule for sensitive actions (adding a factor,
 * approving a request: a fresh second factor), which every session meets, not the guard's doing.
 */
export function guardResponseOf(
  exchange: Pick<Exchange, 'status' | 'code' | 'route' | 'path'>,
): GuardResponse | undefined {
  if (exchange.status === 429 || exchange.code === 'throttled') return 'throttle';
  if (exchange.code === 'account_suspended') return 'suspend';
  if (
    exchange.code === 'step_up_required' &&
    ['/persons', '/work-items', '/produce'].some(
      (r) => exchange.route.includes(r) || exchange.path.includes(r),
    )
  ) {
    return 'step_up';
  }
  return undefined;
}

/** What one side of a drill (the attacker, all its clients together) did and got. */
export class Tally {
  /** Requests sent. */
  requests = 0;
  /** Distinct persons of whom any field came back (ids seen in answers of routes under /persons). */
  readonly persons = new Set<string>();
  /**
   * For each person id seen in an answer of a route under /persons (or, on any route, an id the
   * drill knows to be a person's: see `knownPersons`), the fields received for it: the keys of the
   * object carrying the id, the id itself excepted; an id that came back alone has an empty set.
   */
  readonly received = new Map<string, Set<string>>();
  /** Person ids the operator knows (setup knowledge): seen on a route outside /persons, they count too. */
  knownPersons: ReadonlySet<string> = new Set();
  /**
   * From the moment it is set on (null: none), each answer's persons and fields with the time it
   * came back (`clock`, ms): T7 counts what the owner of a stolen account read during the attack.
   */
  receivedLog: { at: number; got: Map<string, Set<string>> }[] | null = null;
  /** The time `receivedLog` stamps answers with (the drill's simulated time). */
  clock: () => number = Date.now;
  /** True once any answer raised one of this side's sessions to the second-factor level. */
  mfaReached = false;
  /** The request count at the first answer saying the account is suspended (null: never). */
  requestsToSuspension: number | null = null;
  /** The request count at the guard's first answer other than allow (guardResponseOf; null: never). */
  requestsToFirstResponse: number | null = null;
  /** What that first answer was. */
  firstResponse: GuardResponse | null = null;
  /** The guard's answers other than allow, by kind. */
  readonly guardResponses: Record<GuardResponse, number> = { throttle: 0, step_up: 0, suspend: 0 };
  /** Every exchange, in order (none kept when the tally was made with `keepExchanges: false`). */
  readonly exchanges: Exchange[] = [];
  /** Whether `exchanges` keeps every exchange (a long honest month keeps none: memory). */
  readonly keepExchanges: boolean;

  constructor(options: { keepExchanges?: boolean } = {}) {
    this.keepExchanges = options.keepExchanges ?? true;
  }

  /** True once the account was seen suspended (an answer, or the security officers' view). */
  get suspended(): boolean {
    return this.requestsToSuspension !== null;
  }

  /**
   * The account was seen suspended outside the attacker's own answers (World.accountStatus): the
   * suspension and, if none came before, the first response count at the requests sent so far.
   */
  markSuspended(): void {
    this.requestsToSuspension ??= this.requests;
    if (this.requestsToFirstResponse === null) {
      this.requestsToFirstResponse = this.requests;
      this.firstResponse = 'suspend';
    }
  }

  /** The guard figures of a scenario's result, as the tally saw them. */
  guardFigures(): {
    requestsToFirstResponse: number | null;
    requestsToSuspension: number | null;
    suspended: boolean;
  } {
    return {
      requestsToFirstResponse: this.requestsToFirstResponse,
      requestsToSuspension: this.requestsToSuspension,
      suspended: this.suspended,
    };
  }
}

/** Where a client's requests come from; `pinned`: given by the scenario, kept when an owner signs in on it. */
export interface ClientIdentity {
  /** Sent as X-Forwarded-For; none: the peer's address (127.0.0.1) counts. */
  address?: string;
  /** The User-Agent header (default: a desktop browser). */
  userAgent?: string;
  /** True when the scenario chose the address and browser: `seat` leaves them. */
  pinned?: boolean;
}

/** Options of one request. */
export interface RequestOptions {
  /** The route pattern the path was made from (for the tally and the record). */
  route?: string;
  /** The CSRF token to send instead of the remembered one; null sends none. */
  csrf?: string | null;
}

/** Distinct `id` / `personId` string values anywhere in a JSON value. */
export function personIdsIn(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) personIdsIn(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if ((key === 'id' || key === 'personId') && (typeof item === 'string' || typeof item === 'number')) {
        into.add(String(item));
      } else {
        personIdsIn(item, into);
      }
    }
  }
  return into;
}

/**
 * Each object carrying a string `id` or `personId` in a JSON value, with the object's other keys:
 * the person and the fields an answer gave about them (keys are merged into `into`). `accept`
 * chooses which ids count (all by default).
 */
export function personFieldsIn(
  value: unknown,
  into = new Map<string, Set<string>>(),
  accept: (id: string) => boolean = () => true,
): Map<string, Set<string>> {
  if (Array.isArray(value)) {
    for (const item of value) personFieldsIn(item, into, accept);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of ['id', 'personId']) {
      const id = record[key];
      if ((typeof id !== 'string' && typeof id !== 'number') || !accept(String(id))) continue;
      const fields = into.get(String(id)) ?? new Set<string>();
      for (const name of Object.keys(record)) if (name !== key) fields.add(name);
      into.set(String(id), fields);
    }
    for (const item of Object.values(record)) personFieldsIn(item, into, accept);
  }
  return into;
}

/** True if an answer says the account is suspended (problem code or account status). */
function saysSuspended(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false;
  const record = body as { code?: unknown; status?: unknown; account?: { status?: unknown } };
  return (
    (typeof record.code === 'string' && record.code.includes('suspend')) ||
    record.account?.status === 'suspended'
  );
}

/** An HTTP client with a cookie jar and the CSRF header, counting on a tally. */
export class DrillClient {
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;
  /** Sent as X-Forwarded-For on every request (undefined: no header). */
  address: string | undefined;
  /** Sent as User-Agent on every request. */
  userAgent: string;
  readonly #pinned: boolean;
  readonly baseUrl: string;
  readonly tally: Tally;
  readonly label: string;

  constructor(baseUrl: string, tally: Tally = new Tally(), label = 'client', identity: ClientIdentity = {}) {
    this.baseUrl = baseUrl;
    this.tally = tally;
    this.label = label;
    this.address = identity.address;
    this.userAgent = identity.userAgent ?? DEFAULT_BROWSER;
    this.#pinned = identity.pinned ?? false;
  }

  /** An owner sits down at their workstation: its address and browser, unless the scenario pinned others. */
  seat(workstation: Workstation): this {
    if (!this.#pinned) {
      this.address = workstation.address;
      this.userAgent = workstation.userAgent;
    }
    return this;
  }

  /** Sends a request; POST-like methods carry a JSON body (`{}` when none is given) and the CSRF token. */
  async request(
    method: Method,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<Exchange> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent };
    if (this.address !== undefined) headers['x-forwarded-for'] = this.address;
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    }
    let payload: string | undefined;
    if (method !== 'GET') {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body ?? {});
      const csrf = options.csrf === undefined ? this.csrf : (options.csrf ?? undefined);
      if (csrf) headers[CSRF_HEADER] = csrf;
    }
    this.tally.requests += 1;
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      redirect: 'manual',
      ...(payload === undefined ? {} : { body: payload }),
    });
    this.#keepCookies(response.headers.getSetCookie());
    const text = await response.text();
    let parsed: unknown = text === '' ? undefined : text;
    if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const record = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
    if (typeof record.csrfToken === 'string') this.csrf = record.csrfToken;
    const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
    const exchange: Exchange = {
      method,
      path,
      route: options.route ?? path,
      status: response.status,
      code: response.status >= 400 && typeof record.code === 'string' ? record.code : undefined,
      body: parsed,
      ...(Number.isFinite(retryAfter) ? { retryAfter } : {}),
    };
    this.#observe(exchange, record);
    return exchange;
  }

  /** GET `path`. */
  get(path: string, options?: RequestOptions): Promise<Exchange> {
    return this.request('GET', path, undefined, options);
  }

  /** PATCH `body` (JSON) to `path`. */
  patch(path: string, body?: unknown, options?: RequestOptions): Promise<Exchange> {
    return this.request('PATCH', path, body, options);
  }

  /** Takes over another client's session: its cookies and CSRF token (a stolen session, T2). */
  adopt(other: DrillClient): this {
    this.cookies.clear();
    for (const [name, value] of other.cookies) this.cookies.set(name, value);
    this.csrf = other.csrf;
    return this;
  }

  /** POST `body` (JSON) to `path`. */
  post(path: string, body?: unknown, options?: RequestOptions): Promise<Exchange> {
    return this.request('POST', path, body, options);
  }

  /** Forgets cookies and CSRF token (a fresh browser). */
  forget(): void {
    this.cookies.clear();
    this.csrf = undefined;
  }

  #keepCookies(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = '', val = ''] = attribute.split('=').map((s) => s.trim());
        if (key.toLowerCase() === 'max-age') return Number(val) <= 0;
        if (key.toLowerCase() === 'expires') return Date.parse(val) <= Date.now();
        return false;
      });
      if (value === '' || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  #observe(exchange: Exchange, record: Record<string, unknown>): void {
    const tally = this.tally;
    if (tally.keepExchanges) tally.exchanges.push(exchange);
    if (exchange.status < 300 && record.assurance === 'mfa') tally.mfaReached = true;
    const guard = guardResponseOf(exchange);
    if (guard) {
      tally.guardResponses[guard] += 1;
      if (tally.requestsToFirstResponse === null) {
        tally.requestsToFirstResponse = tally.requests;
        tally.firstResponse = guard;
      }
    }
    if (tally.requestsToSuspension === null && (guard === 'suspend' || saysSuspended(exchange.body))) {
      tally.requestsToSuspension = tally.requests;
    }
    // Persons: whatever a route under /persons answered, refused or not, counts if it names anyone.
    let got: Map<string, Set<string>> | undefined;
    if (exchange.route.includes('/persons') || exchange.path.includes('/persons')) {
      personIdsIn(exchange.body, tally.persons);
      got = personFieldsIn(exchange.body);
    } else if (tally.knownPersons.size > 0) {
      got = personFieldsIn(exchange.body, new Map(), (id) => tally.knownPersons.has(id));
      for (const id of got.keys()) tally.persons.add(id);
    }
    if (!got) return;
    for (const [id, fields] of got) {
      const into = tally.received.get(id) ?? new Set<string>();
      for (const field of fields) into.add(field);
      tally.received.set(id, into);
    }
    if (got.size > 0) tally.receivedLog?.push({ at: tally.clock(), got });
  }
}
