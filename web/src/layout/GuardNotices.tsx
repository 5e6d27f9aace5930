/**
 * The guard's answers, shown wherever they come from (docs/GUARD.md): a step-up opens a dialog to
 * verify the second factor again, after which the request is sent again; a throttle says which kind
 * of limit was reached and when it ends; a suspension or an ended session says so and sends the
 * person to the login screen. Never a threshold or a count.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { createModal } from '@codegouvfr/react-dsfr/Modal';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { type ApiProblem, onProblem, setCsrfToken, setStepUpHandler } from '../api/client.ts';
import { useFormatDateTime, useLang, useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { SecondFactor } from '../staff/SecondFactor.tsx';
import { limitIn } from './limits.ts';
import { layoutMessages } from './messages.ts';

const stepUpModal = createModal({ id: 'step-up', isOpenedByDefault: false });

type Notice = { kind: 'throttled'; limit: string; until: string } | { kind: 'suspended' } | { kind: 'ended' };

/** The notices and the step-up dialog. */
export function GuardNotices(): ReactNode {
  const t = useT(layoutMessages);
  const { lang } = useLang();
  const when = useFormatDateTime();
  const navigate = useNavigate();
  const { refresh } = useSession();
  const [notice, setNotice] = useState<Notice | undefined>();
  const [stepUp, setStepUp] = useState<{ limit: string } | undefined>();
  const pending = useRef<((verified: boolean) => void) | undefined>(undefined);

  useEffect(() => {
    setStepUpHandler(
      (problem: ApiProblem) =>
        new Promise<boolean>((resolve) => {
          pending.current?.(false);
          pending.current = resolve;
          setStepUp({ limit: problem.limit ?? '' });
          stepUpModal.open();
        }),
    );
    const off = onProblem((problem) => {
      if (problem.code === 'throttled') {
        setNotice({ kind: 'throttled', limit: problem.limit ?? '', until: problem.retryAt ?? '' });
      } else if (problem.code === 'account_suspended') {
        setCsrfToken(null);
        setNotice({ kind: 'suspended' });
        void refresh();
      } else if (problem.status === 401) {
        setNotice({ kind: 'ended' });
        void refresh().then(() => navigate('/connexion'));
      }
    });
    return () => {
      off();
      setStepUpHandler(undefined);
    };
  }, [navigate, refresh]);

  const finish = (verified: boolean) => {
    stepUpModal.close();
    setStepUp(undefined);
    pending.current?.(verified);
    pending.current = undefined;
  };

  return (
    <>
      {notice?.kind === 'throttled' && (
        <Alert
          severity="warning"
          title={t('throttledTitle')}
          description={t('throttledText', { limit: limitIn(lang, notice.limit), until: when(notice.until) })}
          closable
          onClose={() => setNotice(undefined)}
          className="fr-mb-3w"
        />
      )}
      {notice?.kind === 'suspended' && (
        <Alert
          severity="error"
          title={t('suspendedTitle')}
          description={t('suspendedText')}
          className="fr-mb-3w"
        />
      )}
      {notice?.kind === 'ended' && (
        <Alert
          severity="info"
          title={t('sessionEndedTitle')}
          description={t('sessionEndedText')}
          small
          className="fr-mb-3w"
        />
      )}
      <stepUpModal.Component title={t('stepUpTitle')} concealingBackdrop={false}>
        {stepUp && (
          <>
            <p>{t('stepUpText', { limit: limitIn(lang, stepUp.limit) })}</p>
            <SecondFactor onVerified={() => finish(true)} onCancel={() => finish(false)} />
          </>
        )}
      </stepUpModal.Component>
    </>
  );
}
