/**
 * The console's screens by path. Paths name screens, never persons: a record is opened from a
 * search result and carried in memory (staff/selection.tsx), so no identifier reaches the address
 * bar, the history or a referrer.
 */
import { lazy, type ReactNode, Suspense } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { LangProvider } from './i18n/i18n.tsx';
import { Layout } from './layout/Layout.tsx';
import { NotFoundPage } from './layout/NotFoundPage.tsx';
import { RequireRole } from './layout/RequireRole.tsx';
import { type Role, SessionProvider } from './session.tsx';
import { EnrolPage } from './staff/EnrolPage.tsx';
import { HomePage } from './staff/HomePage.tsx';
import { LoginPage } from './staff/LoginPage.tsx';
import { PersonPage } from './staff/PersonPage.tsx';
import { ProConnectReturnPage } from './staff/ProConnectReturnPage.tsx';
import { SearchPage } from './staff/SearchPage.tsx';
import { SessionsPage } from './staff/SessionsPage.tsx';
import { SelectionProvider } from './staff/selection.tsx';

// Screen families other than login and search load on first use: the login page's first load stays small.
const HelpdeskPage = lazy(() => import('./helpdesk/HelpdeskPage.tsx'));
const ApprovalsPage = lazy(() => import('./manager/ApprovalsPage.tsx'));
const AccountsPage = lazy(() => import('./manager/AccountsPage.tsx'));
const DpoPage = lazy(() => import('./dpo/DpoPage.tsx'));
const RetentionPage = lazy(() => import('./dpo/RetentionPage.tsx'));
const RecoveryPage = lazy(() => import('./recovery/RecoveryPage.tsx'));
const ActivationPage = lazy(() => import('./recovery/ActivationPage.tsx'));
const PortalPage = lazy(() => import('./portal/PortalPage.tsx'));
const VerifyPage = lazy(() => import('./verify/VerifyPage.tsx'));
const IncidentsPage = lazy(() => import('./incidents/IncidentsPage.tsx'));
const IncidentFilePage = lazy(() => import('./incidents/IncidentFilePage.tsx'));
const WorkItemsPage = lazy(() => import('./workitems/WorkItemsPage.tsx'));
const ExportsPage = lazy(() => import('./exports/ExportsPage.tsx'));
const TracePage = lazy(() => import('./exports/TracePage.tsx'));

/** A lazily loaded screen for some roles (any logged-in role when `roles` is absent). */
function Lazy({ roles, children }: { roles?: readonly Role[]; children: ReactNode }): ReactNode {
  return (
    <RequireRole {...(roles ? { roles } : {})}>
      <Suspense fallback={null}>{children}</Suspense>
    </RequireRole>
  );
}

// The security officers' screens carry the chart library: downloaded only by those who open them.
const DashboardPage = lazy(() =>
  import('./security/DashboardPage.tsx').then((m) => ({ default: m.DashboardPage })),
);
const ReviewPage = lazy(() => import('./security/ReviewPage.tsx').then((m) => ({ default: m.ReviewPage })));
const IncidentPage = lazy(() =>
  import('./security/IncidentPage.tsx').then((m) => ({ default: m.IncidentPage })),
);

/** A security officer's screen, loaded on demand. */
function Security({ children }: { children: ReactNode }): ReactNode {
  return (
    <RequireRole roles={['security_officer']}>
      <Suspense fallback={<p>…</p>}>{children}</Suspense>
    </RequireRole>
  );
}

/** The whole console. */
export function App(): ReactNode {
  return (
    <LangProvider>
      <SessionProvider>
        <SelectionProvider>
          <BrowserRouter>
            <Routes>
              <Route element={<Layout />}>
                <Route index element={<HomePage />} />
                <Route path="connexion" element={<LoginPage />} />
                <Route path="connexion/proconnect" element={<ProConnectReturnPage />} />
                <Route path="second-facteur" element={<EnrolPage />} />
                <Route
                  path="mes-sessions"
                  element={
                    <RequireRole>
                      <SessionsPage />
                    </RequireRole>
                  }
                />
                <Route
                  path="recherche"
                  element={
                    <RequireRole
                      roles={['counselor', 'partner_counselor', 'security_officer', 'dpo', 'archivist']}
                    >
                      <SearchPage />
                    </RequireRole>
                  }
                />
                <Route
                  path="dossier"
                  element={
                    <RequireRole
                      roles={['counselor', 'partner_counselor', 'security_officer', 'dpo', 'archivist']}
                    >
                      <PersonPage />
                    </RequireRole>
                  }
                />
                {/* Work items (T4): an operator's own; the items a manager assigns or a counselor handed over. */}
                <Route
                  path="mes-dossiers"
                  element={
                    <Lazy roles={['subcontractor_operator']}>
                      <WorkItemsPage />
                    </Lazy>
                  }
                />
                <Route
                  path="dossiers-confies"
                  element={
                    <Lazy roles={['counselor', 'org_manager']}>
                      <WorkItemsPage />
                    </Lazy>
                  }
                />
                {/* Four-eyes exports (T3): counselors request, managers and the DPO decide, the DPO registers keys. */}
                <Route
                  path="exports"
                  element={
                    <Lazy roles={['counselor', 'partner_counselor', 'org_manager', 'dpo']}>
                      <ExportsPage />
                    </Lazy>
                  }
                />
                <Route
                  path="assistance"
                  element={
                    <Lazy roles={['helpdesk']}>
                      <HelpdeskPage />
                    </Lazy>
                  }
                />
                <Route
                  path="approbations"
                  element={
                    <Lazy roles={['org_manager', 'administrator']}>
                      <ApprovalsPage />
                    </Lazy>
                  }
                />
                <Route
                  path="comptes"
                  element={
                    <Lazy roles={['org_manager', 'administrator']}>
                      <AccountsPage />
                    </Lazy>
                  }
                />
                <Route
                  path="protection-donnees"
                  element={
                    <Lazy roles={['dpo']}>
                      <DpoPage />
                    </Lazy>
                  }
                />
                <Route
                  path="protection-donnees/conservation"
                  element={
                    <Lazy roles={['dpo']}>
                      <RetentionPage />
                    </Lazy>
                  }
                />
                {/* Public: the owner has lost their second factor, or has none yet. */}
                <Route
                  path="recuperation"
                  element={
                    <Suspense fallback={null}>
                      <RecoveryPage />
                    </Suspense>
                  }
                />
                <Route
                  path="activation"
                  element={
                    <Suspense fallback={null}>
                      <ActivationPage />
                    </Suspense>
                  }
                />
                <Route
                  path="securite"
                  element={
                    <Security>
                      <DashboardPage />
                    </Security>
                  }
                />
                <Route
                  path="securite/revue"
                  element={
                    <Security>
                      <ReviewPage />
                    </Security>
                  }
                />
                <Route
                  path="securite/incidents/:id"
                  element={
                    <Security>
                      <IncidentPage />
                    </Security>
                  }
                />
                <Route
                  path="securite/fuite"
                  element={
                    <Security>
                      <TracePage />
                    </Security>
                  }
                />
                {/* Incidents and the 72-hour notification: security officers declare, the DPO notifies. */}
                <Route
                  path="incidents"
                  element={
                    <Lazy roles={['security_officer', 'dpo']}>
                      <IncidentsPage />
                    </Lazy>
                  }
                />
                <Route
                  path="incidents/:id"
                  element={
                    <Lazy roles={['security_officer', 'dpo']}>
                      <IncidentFilePage />
                    </Lazy>
                  }
                />
                {/* The person's own side: their record, who read it (with proofs), incidents, receipts. */}
                <Route
                  path="mon-espace/*"
                  element={
                    <Suspense fallback={null}>
                      <PortalPage />
                    </Suspense>
                  }
                />
                {/* Public: anyone checks the code a message carries (T6), without logging in. */}
                <Route
                  path="verifier"
                  element={
                    <Suspense fallback={null}>
                      <VerifyPage />
                    </Suspense>
                  }
                />
                <Route path="accueil" element={<Navigate to="/" replace />} />
                <Route path="*" element={<NotFoundPage />} />
              </Route>
            </Routes>
          </BrowserRouter>
        </SelectionProvider>
      </SessionProvider>
    </LangProvider>
  );
}
