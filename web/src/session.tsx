/**
 * Who is logged in, in this tab: the account and the session's assurance, read from GET /api/v1/me.
 * Nothing of it is stored in the browser (the cookie is HttpOnly); a reload asks the server again.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiProblem, api, csrfToken, must, setCsrfToken } from './api/client.ts';

type MeResponse = Awaited<ReturnType<typeof loadMe>>;
export type Me = NonNullable<MeResponse>;
export type Role = (typeof ROLES)[number];

/** The roles of staff accounts, as the API names them. */
export const ROLES = [
  'counselor',
  'partner_counselor',
  'subcontractor_operator',
  'helpdesk',
  'org_manager',
  'security_officer',
  'dpo',
  'administrator',
  'archivist',
] as const;

async function loadMe() {
  const { data, response } = await api.GET('/api/v1/me');
  if (response.status === 401 || response.status === 403) return null;
  if (!response.ok || !data) throw new ApiProblem(response.status, {});
  return data;
}

interface SessionState {
  /** undefined while loading; null when nobody is logged in (in this tab). */
  me: Me | null | undefined;
  /** Reads GET /api/v1/me again (after a login step). */
  refresh(): Promise<Me | null>;
  /** Ends this session (POST /api/v1/auth/logout), or all of mine. */
  logout(everywhere?: boolean): Promise<void>;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

/** Provides the session to the console. */
export function SessionProvider({ children }: { children: ReactNode }): ReactNode {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const refresh = useCallback(async () => {
    // A session without this tab's CSRF token could read but not act: log in again in this tab.
    const next = csrfToken() === null ? null : await loadMe().catch(() => null);
    setMe(next);
    return next;
  }, []);
  const logout = useCallback(async (everywhere = false) => {
    try {
      await must(api.POST(everywhere ? '/api/v1/auth/logout-everywhere' : '/api/v1/auth/logout'));
    } finally {
      setCsrfToken(null);
      setMe(null);
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  const value = useMemo(() => ({ me, refresh, logout }), [me, refresh, logout]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The session state. */
export function useSession(): SessionState {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
