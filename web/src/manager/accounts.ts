/** The organisation's accounts (GET /api/v1/accounts), shared by the managers' screens. */
import { api, must } from '../api/client.ts';

export type AccountRow = Awaited<ReturnType<typeof loadAccounts>>['accounts'][number];

/** Managers: their organisation's accounts; administrators: all. */
export const loadAccounts = () => must(api.GET('/api/v1/accounts'));
