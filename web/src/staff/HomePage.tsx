/** The home screen: who I am, and the screens of my role as tiles. */
import { Tile } from '@codegouvfr/react-dsfr/Tile';
import { type ReactNode, useEffect } from 'react';
import { Navigate } from 'react-router';
import { useT } from '../i18n/i18n.tsx';
import { NAVIGATION } from '../layout/Layout.tsx';
import { layoutMessages } from '../layout/messages.ts';
import { type Role, useSession } from '../session.tsx';
import { staffMessages } from './messages.ts';

/** The home screen. */
export function HomePage(): ReactNode {
  const t = useT(staffMessages);
  const tl = useT(layoutMessages);
  const { me } = useSession();
  useEffect(() => {
    document.title = 'Rempart';
  }, []);
  if (me === undefined) return <p>{tl('loading')}</p>;
  if (me === null) return <Navigate to="/connexion" replace />;
  if (me.assurance !== 'mfa') return <Navigate to="/second-facteur" replace />;
  const role = me.account.role as Role;
  return (
    <>
      <h1>{t('homeTitle', { name: me.account.displayName })}</h1>
      <p>{t('homeIntro', { role: t(`role_${role}`) })}</p>
      <div className="fr-grid-row fr-grid-row--gutters">
        {NAVIGATION.filter((item) => item.roles.length === 0 || item.roles.includes(role)).map((item) => (
          <div key={item.path} className="fr-col-12 fr-col-md-4">
            <Tile title={tl(item.key)} linkProps={{ to: item.path }} orientation="horizontal" />
          </div>
        ))}
      </div>
    </>
  );
}
