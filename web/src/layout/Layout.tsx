/**
 * The frame of every screen, as the State design system draws it: skip links, the header with the
 * service name, the language switch and the display settings (light, dark, system), the navigation
 * of the logged-in role, the guard's notices, and the footer with its accessibility statement.
 */

import { headerFooterDisplayItem } from '@codegouvfr/react-dsfr/Display';
import { Footer } from '@codegouvfr/react-dsfr/Footer';
import { Header } from '@codegouvfr/react-dsfr/Header';
import type { MainNavigationProps } from '@codegouvfr/react-dsfr/MainNavigation';
import { SkipLinks } from '@codegouvfr/react-dsfr/SkipLinks';
import type { ReactNode } from 'react';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { type Lang, useLang, useT } from '../i18n/i18n.tsx';
import { type Role, useSession } from '../session.tsx';
import { GuardNotices } from './GuardNotices.tsx';
import { layoutMessages } from './messages.ts';

type NavKey = keyof (typeof layoutMessages)['fr'];

/** Each role's screens in the navigation; a screen family adds its entry here. */
export const NAVIGATION: { key: NavKey; path: string; roles: readonly Role[] }[] = [
  {
    key: 'search',
    path: '/recherche',
    roles: ['counselor', 'partner_counselor', 'security_officer', 'dpo', 'archivist'],
  },
  { key: 'myItems', path: '/mes-dossiers', roles: ['subcontractor_operator'] },
  { key: 'handedItems', path: '/dossiers-confies', roles: ['counselor', 'org_manager'] },
  { key: 'exports', path: '/exports', roles: ['counselor', 'partner_counselor', 'org_manager', 'dpo'] },
  { key: 'recovery', path: '/assistance', roles: ['helpdesk'] },
  { key: 'approvals', path: '/approbations', roles: ['org_manager', 'administrator'] },
  { key: 'accounts', path: '/comptes', roles: ['org_manager', 'administrator'] },
  { key: 'dpo', path: '/protection-donnees', roles: ['dpo'] },
  { key: 'retention', path: '/protection-donnees/conservation', roles: ['dpo'] },
  { key: 'security', path: '/securite', roles: ['security_officer'] },
  { key: 'review', path: '/securite/revue', roles: ['security_officer'] },
  { key: 'leak', path: '/securite/fuite', roles: ['security_officer'] },
  { key: 'incidents', path: '/incidents', roles: ['security_officer', 'dpo'] },
  { key: 'sessions', path: '/mes-sessions', roles: [] },
];

/** The layout around every screen. */
export function Layout(): ReactNode {
  const t = useT(layoutMessages);
  const { lang, setLang } = useLang();
  const { me, logout } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const role = me?.assurance === 'mfa' ? (me.account.role as Role) : undefined;
  const navigation: MainNavigationProps.Item[] =
    role === undefined
      ? []
      : NAVIGATION.filter((item) => item.roles.length === 0 || item.roles.includes(role)).map((item) => ({
          text: t(item.key),
          linkProps: { to: item.path },
          isActive:
            location.pathname === item.path ||
            (location.pathname.startsWith(`${item.path}/`) &&
              !NAVIGATION.some(
                (other) => other.path.startsWith(`${item.path}/`) && location.pathname.startsWith(other.path),
              )),
        }));
  const otherLang: Lang = lang === 'fr' ? 'en' : 'fr';
  const quickAccess = [
    // The other language, one click away. (The design system's LanguageSelect puts its menu's links
    // inside its button: axe-core's nested-interactive, serious; a plain switch has no such fault.)
    {
      iconId: 'fr-icon-translate-2' as const,
      text: <span lang={otherLang}>{otherLang === 'en' ? 'English' : 'Français'}</span>,
      buttonProps: { onClick: () => setLang(otherLang) },
    },
    me
      ? {
          iconId: 'fr-icon-logout-box-r-line' as const,
          text: t('logout'),
          buttonProps: {
            onClick: () => {
              void logout().then(() => navigate('/connexion'));
            },
          },
        }
      : {
          iconId: 'fr-icon-lock-line' as const,
          // On the people's pages (portal, message check) this link is the staff's, and says so: a
          // person logged in to their portal is not offered a login that isn't theirs.
          text:
            location.pathname.startsWith('/mon-espace') || location.pathname.startsWith('/verifier')
              ? t('staffLogin')
              : t('login'),
          linkProps: { to: '/connexion' },
        },
  ];
  return (
    <>
      <SkipLinks
        links={[
          { label: t('skipContent'), anchor: '#contenu' },
          { label: t('skipMenu'), anchor: '#header-navigation' },
          { label: t('skipFooter'), anchor: '#footer' },
        ]}
      />
      <Header
        brandTop={
          <>
            République
            <br />
            Française
          </>
        }
        serviceTitle="Rempart"
        serviceTagline={t('tagline')}
        homeLinkProps={{ to: '/', title: t('home') }}
        quickAccessItems={quickAccess}
        navigation={navigation}
        id="header"
      />
      <main id="contenu" tabIndex={-1} className="fr-container fr-py-6w">
        <GuardNotices />
        <Outlet />
      </main>
      <Footer
        id="footer"
        accessibility="non compliant"
        contentDescription={t('footerDescription')}
        bottomItems={[
          headerFooterDisplayItem,
          { text: t('personPortal'), linkProps: { to: '/mon-espace' } },
          { text: t('recoverAccount'), linkProps: { to: '/recuperation' } },
        ]}
      />
    </>
  );
}
