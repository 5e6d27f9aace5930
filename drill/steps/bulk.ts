/**
 * The bulk pull of a stolen partner session (T2 phase 2, T5, T9): read everything reachable as fast
 * as possible. The script's order: the persons whose ids it already holds, by id; then the leaked
 * file, identity after identity, searched by agency id, every person found viewed by id at once;
 * after every ten identities, the five agency ids that follow the last one found (sequential ids,
 * with the check letter worked out from the leaked ones), and two tries outside the caseload (a
 * view by the id of an outside person, a national search, which partners may not make). A request
 * lost to the end of the session is tried again on the next copy.
 */
import type { Exchange } from '../client.ts';
import type { CaseloadNotes, LeakedPerson } from '../leak.ts';
import type { Intruder, Move } from './intruder.ts';
import { byAgencyId, byName, foundIds, JUSTIFICATIONS, view } from './moves.ts';
import { followingAgencyIds, letterRuleHolds } from './sweeps.ts';

/** Identities of the file between two rounds of sequential ids and outside tries. */
const ROUND = 10;
/** Sequential agency ids tried after each round. */
const SEQUENTIAL = 5;

/** What the bulk pull did, for its step's note. */
export interface BulkCounts {
  /** Searches answered (200), of which answered by nobody, of which of sequential agency ids. */
  searches: number;
  emptySearches: number;
  sequential: number;
  /** Views of persons found, answered (200). */
  views: number;
  /** Tries outside the caseload (views by an outside id, national searches), whatever the answer. */
  outsideTries: number;
  /** Requests the guard refused (429, step_up_required, account_suspended). */
  refusedByGuard: number;
}

/** The bulk pull's plan: what to ask next, growing with what the answers reveal. */
export class BulkPull {
  readonly counts: BulkCounts = {
    searches: 0,
    emptySearches: 0,
    sequential: 0,
    views: 0,
    outsideTries: 0,
    refusedByGuard: 0,
  };
  readonly #views: string[] = [];
  readonly #viewed = new Set<string>();
  readonly #file: LeakedPerson[];
  readonly #outside: LeakedPerson[];
  readonly #canGuessLetters: boolean;
  #filePos = 0;
  #outsidePos = 0;
  #lastAgencyId: string | undefined;
  #retry: Move | undefined;
  readonly #queue: Move[] = [];
  readonly #sequentialMoves = new WeakSet<Move>();

  /** `known`: person ids the script already holds (found earlier); `file`: the leaked identities to go through. */
  constructor(notes: CaseloadNotes, known: Iterable<string>, file: readonly LeakedPerson[] = notes.file) {
    for (const id of known) this.#want(id);
    this.#file = [...file];
    this.#outside = notes.outside;
    this.#canGuessLetters = letterRuleHolds(notes.file.map((p) => p.agencyId));
  }

  #want(id: string): void {
    const key = id.toLowerCase();
    if (this.#viewed.has(key)) return;
    this.#viewed.add(key);
    this.#views.push(id);
  }

  /** The next request, or undefined when there is nothing left to try. */
  next(): Move | undefined {
    if (this.#retry) {
      const move = this.#retry;
      this.#retry = undefined;
      return move;
    }
    const id = this.#views.shift();
    if (id !== undefined) return view(id);
    const queued = this.#queue.shift();
    if (queued) return queued;
    const person = this.#file[this.#filePos];
    if (!person) return undefined;
    this.#filePos += 1;
    this.#lastAgencyId ??= person.agencyId;
    if (this.#filePos % ROUND === 0) this.#round();
    return byAgencyId(person.agencyId);
  }

  /** After each round of the file: sequential ids after the last one found, and two outside tries. */
  #round(): void {
    if (this.#canGuessLetters && this.#lastAgencyId) {
      for (const agencyId of followingAgencyIds(this.#lastAgencyId, SEQUENTIAL)) {
        const move = byAgencyId(agencyId);
        this.#sequentialMoves.add(move);
        this.#queue.push(move);
      }
    }
    const outside = this.#outside[this.#outsidePos % Math.max(1, this.#outside.length)];
    this.#outsidePos += 1;
    if (outside) {
      this.#queue.push(view(outside.id));
      const search = byName({
        lastName: outside.lastName,
        firstName: outside.firstNames,
        birthDate: outside.birthDate,
      });
      this.#queue.push({
        ...search,
        body: {
          ...(search.body as Record<string, unknown>),
          national: true,
          justification: JUSTIFICATIONS[this.#outsidePos % JUSTIFICATIONS.length],
        },
      });
    }
  }

  /** Takes in an answer: persons found are viewed next; a move lost to a dead session is kept for the next copy. */
  answered(move: Move, call: Exchange, intruder: Intruder): void {
    if (intruder.dead && call.status === 401) {
      this.#retry = move;
      return;
    }
    const body = move.body as { by?: string; agencyId?: string; national?: boolean } | undefined;
    const outside =
      body?.national === true ||
      (move.method === 'GET' && this.#outside.some((p) => move.path.includes(p.id)));
    if (outside) this.counts.outsideTries += 1;
    if (call.status === 429 || call.code === 'step_up_required' || call.code === 'account_suspended') {
      this.counts.refusedByGuard += 1;
      return;
    }
    if (outside || call.status !== 200) return;
    if (move.method === 'GET') {
      this.counts.views += 1;
      return;
    }
    this.counts.searches += 1;
    if (this.#sequentialMoves.has(move)) this.counts.sequential += 1;
    const found = foundIds(call);
    if (call.status === 200 && found.length === 0) this.counts.emptySearches += 1;
    for (const id of found) this.#want(id);
    if (found.length > 0 && body?.agencyId) this.#lastAgencyId = body.agencyId;
  }

  /** Sends requests until the session ends, the account is suspended, or nothing is left ('done'). */
  async run(intruder: Intruder): Promise<'again' | 'done'> {
    while (!intruder.stopped) {
      const move = this.next();
      if (!move) return 'done';
      const call = await intruder.push(move);
      this.answered(move, call, intruder);
    }
    return 'again';
  }
}
