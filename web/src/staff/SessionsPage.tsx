/** My sessions (GET /api/v1/me/sessions), and closing them all (POST /api/v1/auth/logout-everywhere). */
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { staffMessages } from './messages.ts';
import { ProConnectLink } from './ProConnectLink.tsx';

type Sessions = Awaited<ReturnType<typeof loadSessions>>['sessions'];
const loadSessions = () => must(api.GET('/api/v1/me/sessions'));

/** The sessions screen. */
export function SessionsPage(): ReactNode {
  const t = useT(staffMessages);
  const when = useFormatDateTime();
  const navigate = useNavigate();
  const { logout } = useSession();
  const [sessions, setSessions] = useState<Sessions | undefined>();
  useEffect(() => {
    document.title = `${t('sessionsTitle')} — Rempart`;
    loadSessions().then(
      (answer) => setSessions(answer.sessions),
      () => setSessions([]),
    );
  }, [t]);
  return (
    <>
      <h1>{t('sessionsTitle')}</h1>
      <p>{t('sessionsIntro')}</p>
      {sessions && (
        <Table
          fixed
          headers={[
            t('sessionCreated'),
            t('sessionLastSeen'),
            t('sessionExpires'),
            t('sessionAddress'),
            t('sessionBrowser'),
          ]}
          data={sessions.map((s) => [
            <>
              {when(s.createdAt)}{' '}
              {s.current && (
                <Badge severity="info" small>
                  {t('sessionCurrent')}
                </Badge>
              )}
            </>,
            when(s.lastSeenAt),
            when(s.expiresAt),
            s.sourceAddress ?? '—',
            s.userAgent ?? '—',
          ])}
        />
      )}
      <Button
        priority="secondary"
        iconId="fr-icon-logout-box-r-line"
        onClick={() => void logout(true).then(() => navigate('/connexion'))}
      >
        {t('logoutEverywhere')}
      </Button>
      <ProConnectLink />
    </>
  );
}
