/**
 * Where the drill's requests come from. The server runs with TRUST_PROXY=127.0.0.1, and every
 * DrillClient sends X-Forwarded-For and a User-Agent, as a reverse proxy in front of Rempart would
 * pass on: each staff member works from a fixed office workstation (an address in 10.20.0.0/14 by
 * organisation, and a browser), and a client nobody signed in on (an attacker's script, a stranger)
 * comes from outside (203.0.113.0/24, TEST-NET-3) unless the scenario says where.
 * The guard watches addresses and user agents (new device, concurrent sessions from two places).
 */

/** An address and a browser. */
export interface Workstation {
  address: string;
  userAgent: string;
}

/** Desktop browsers as staff workstations report them. */
export const BROWSERS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
];

/** The browser a client without a workstation sends. */
export const DEFAULT_BROWSER = BROWSERS[0]!;

function hash(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

/** An address outside every office, stable for a label (`attacker` always comes from the same place). */
export function outsideAddress(label: string): string {
  return `203.0.113.${1 + (hash(label) % 254)}`;
}

/** Hands out office workstations: organisation by organisation, seat by seat. */
export class Workstations {
  readonly #organisations: Map<string, number>;
  readonly #seats = new Map<string, number>();

  /** `organisations`: codes in a fixed order (the seeded plan's), which numbers their networks. */
  constructor(organisations: readonly string[]) {
    this.#organisations = new Map(organisations.map((code, i) => [code, i]));
  }

  /** The next seat of an organisation: `10.(20 + n/256).(n%256).(seat)`, and a browser. */
  next(organisation: string): Workstation {
    const n = this.#organisations.get(organisation) ?? hash(organisation) % 1024;
    const seat = this.#seats.get(organisation) ?? 0;
    this.#seats.set(organisation, seat + 1);
    return {
      // 253 seats per office network; past that, seats are shared (as hot desks are).
      address: `10.${20 + Math.floor(n / 256)}.${n % 256}.${2 + (seat % 253)}`,
      userAgent: BROWSERS[(n * 7 + seat) % BROWSERS.length]!,
    };
  }
}
