/**
 * Linking my account to my ProConnect identity, from my own session with a fresh second factor
 * (POST /api/v1/auth/proconnect/link, then ProConnect, then back to /connexion/proconnect), and
 * removing the link. A federated identity never creates an account: it only opens an existing one.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { type ReactNode, useEffect, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { useProConnectEnabled } from './ProConnectLogin.tsx';
import { proconnectMessages } from './proconnect-messages.ts';

type Link = { linked: boolean; issuer?: string; linkedAt?: string };

/** The ProConnect section of "My sessions" (nothing when the federation is off). */
export function ProConnectLink(): ReactNode {
  const t = useT(proconnectMessages);
  const when = useFormatDateTime();
  const enabled = useProConnectEnabled();
  const [link, setLink] = useState<Link | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  useEffect(() => {
    if (enabled) must(api.GET('/api/v1/auth/proconnect/link')).then(setLink, () => setLink(undefined));
  }, [enabled]);
  if (!enabled || !link) return null;

  const start = async () => {
    try {
      const { authorizationUrl } = await must(() => api.POST('/api/v1/auth/proconnect/link'));
      window.location.assign(authorizationUrl);
    } catch (problem) {
      if (problem instanceof ApiProblem) setNotice(problem.message);
    }
  };
  const remove = async () => {
    try {
      await must(() => api.POST('/api/v1/auth/proconnect/unlink'));
      setLink({ linked: false });
      setNotice(t('unlinked'));
    } catch (problem) {
      if (problem instanceof ApiProblem) setNotice(problem.message);
    }
  };
  return (
    <section className="fr-mt-6w" aria-labelledby="proconnect-title">
      <h2 id="proconnect-title" className="fr-h4">
        {t('linkTitle')}
      </h2>
      <p>{t('linkIntro')}</p>
      {notice && <Alert severity="info" small description={notice} className="fr-mb-3w" />}
      <p>
        {link.linked ? t('linked', { date: when(link.linkedAt), issuer: link.issuer ?? '' }) : t('notLinked')}
      </p>
      {link.linked ? (
        <Button priority="secondary" onClick={() => void remove()}>
          {t('unlink')}
        </Button>
      ) : (
        <Button onClick={() => void start()}>{t('link')}</Button>
      )}
    </section>
  );
}
