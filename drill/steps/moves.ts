/**
 * The requests an attacker's script sends about persons (the public API, docs/API.md): searches by
 * agency id, NIR or name and birth date (everyday or national with a justification), views by id,
 * national views. Built as Moves for the Intruder; no personal data leaves the drill's notes.
 */
import type { Exchange } from '../client.ts';
import type { LeakedPerson } from '../leak.ts';
import type { Move } from './intruder.ts';
import { NATIONAL_VIEW, SEARCH, VIEW } from './scope-probe.ts';

/** The purpose staff read under every day (held by every role the scenarios steal). */
export const EVERYDAY = 'accompaniment';

/** Justifications a counselor could plausibly type for a national read, varied from one lookup to the next (T2b). */
export const JUSTIFICATIONS: readonly string[] = [
  'Personne reçue en agence après un déménagement, dossier encore rattaché à son ancienne agence.',
  'Demande de la personne au téléphone : vérification de son inscription avant un rendez-vous.',
  'Appel d’un partenaire pour un accompagnement commun, personne suivie dans une autre agence.',
  'Courrier reçu à l’agence pour une personne inscrite ailleurs : vérification avant réorientation.',
  'Rendez-vous de suivi : la personne signale un transfert de dossier en cours depuis une autre agence.',
  'Vérification de situation demandée par la personne lors d’un atelier collectif en agence.',
  'Personne orientée par la mission locale, inscription à confirmer avant entrée en formation.',
  'Contrôle de cohérence avant une mise en relation avec un employeur du bassin.',
  'Reprise de suivi après un arrêt maladie, dossier ouvert dans une autre agence du département.',
  'Question de la personne sur ses périodes d’inscription, à vérifier avant de lui répondre.',
];

/** A search by agency id (everyday scope). */
export function byAgencyId(agencyId: string): Move {
  return {
    method: 'POST',
    path: SEARCH,
    route: SEARCH,
    body: { purpose: EVERYDAY, by: 'agencyId', agencyId },
  };
}

/** A search by name and birth date (everyday scope). */
export function byName(person: { lastName: string; firstName: string; birthDate: string }): Move {
  return {
    method: 'POST',
    path: SEARCH,
    route: SEARCH,
    body: { purpose: EVERYDAY, by: 'nameBirth', ...person },
  };
}

/** A national search by NIR with a justification (agency counselors). */
export function nationalByNir(person: LeakedPerson, justification: string): Move {
  return {
    method: 'POST',
    path: SEARCH,
    route: SEARCH,
    body: { purpose: EVERYDAY, by: 'nir', nir: person.nir, national: true, justification },
  };
}

/** The view of a person by id. */
export function view(id: string): Move {
  return {
    method: 'GET',
    path: `${VIEW.replace('{id}', encodeURIComponent(id))}?purpose=${EVERYDAY}`,
    route: VIEW,
  };
}

/** The national view of a person by id, with a justification. */
export function nationalView(id: string, justification: string): Move {
  return {
    method: 'POST',
    path: NATIONAL_VIEW.replace('{id}', encodeURIComponent(id)),
    route: NATIONAL_VIEW,
    body: { purpose: EVERYDAY, justification },
  };
}

/** The ids of the persons a successful search answered with. */
export function foundIds(call: Exchange): string[] {
  if (call.status !== 200) return [];
  const results = (call.body as { results?: { id?: unknown }[] } | undefined)?.results ?? [];
  return results.map((r) => r.id).filter((id): id is string => typeof id === 'string');
}
