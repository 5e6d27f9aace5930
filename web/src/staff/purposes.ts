/**
 * What each role may ask the search, as the server's policy grants it (docs/API.md, "Persons and the
 * gate"). The console only offers these choices; the server decides, and refuses anything else.
 */
import type { Role } from '../session.tsx';
import type { Purpose } from './selection.tsx';

export type SearchBy = 'agencyId' | 'nir' | 'nameBirth';

export interface PurposeRule {
  purpose: Purpose;
  by: readonly SearchBy[];
  /**
   * 'everyday': agency and caseload (national on request, justified); 'caseload': never national;
   * 'national': only national; 'archive': the archive of former job seekers, never national.
   */
  reach: 'everyday' | 'caseload' | 'national' | 'archive';
}

export const SEARCH_RULES: Partial<Record<Role, readonly PurposeRule[]>> = {
  counselor: [
    { purpose: 'accompaniment', by: ['agencyId', 'nir', 'nameBirth'], reach: 'everyday' },
    { purpose: 'payment', by: ['agencyId', 'nir'], reach: 'everyday' },
    { purpose: 'pension_proof', by: ['nir', 'nameBirth'], reach: 'everyday' },
  ],
  partner_counselor: [{ purpose: 'accompaniment', by: ['agencyId', 'nameBirth'], reach: 'caseload' }],
  security_officer: [{ purpose: 'incident_investigation', by: ['agencyId'], reach: 'national' }],
  dpo: [{ purpose: 'data_subject_request', by: ['agencyId', 'nir', 'nameBirth'], reach: 'national' }],
  archivist: [{ purpose: 'pension_proof', by: ['nir', 'nameBirth'], reach: 'archive' }],
};
