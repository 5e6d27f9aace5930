/**
 * The owner's side of a recovery, without logging in (they have lost their second factor): complete
 * an approved case with the code mailed to the registered address (POST /api/v1/recovery/complete:
 * a new password; every factor, recovery code and session of the account is revoked), then log in
 * and enrol a new factor; or cancel a case they did not ask for with the code of the first mail
 * (POST /api/v1/recovery/cancel). The codes are typed, never carried in a link (a link would put
 * them in the address bar, the history and the mail's scanners).
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useT } from '../i18n/i18n.tsx';
import { recoveryMessages } from './messages.ts';
import { PasswordFields } from './PasswordFields.tsx';

/** The public recovery screen. */
export default function RecoveryPage(): ReactNode {
  const t = useT(recoveryMessages);
  const [code, setCode] = useState('');
  const [passwords, setPasswords] = useState({ password: '', confirm: '' });
  const [completed, setCompleted] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [cancelCode, setCancelCode] = useState('');
  const [cancelResult, setCancelResult] = useState<{ ok: boolean; text: string } | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
  }, [t]);

  const complete = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    if (passwords.password !== passwords.confirm) {
      setError(t('mismatch'));
      return;
    }
    setBusy(true);
    try {
      await must(
        api.POST('/api/v1/recovery/complete', {
          body: { code: code.trim().toUpperCase(), password: passwords.password },
        }),
      );
      setPasswords({ password: '', confirm: '' });
      setCode('');
      setCompleted(true);
    } catch (problem) {
      if (problem instanceof ApiProblem) {
        setError(
          problem.code === 'recovery_failed'
            ? t('failed')
            : problem.code === 'recovery_not_ready'
              ? t('notReady')
              : t('refused', { message: problem.message }),
        );
      }
    } finally {
      setBusy(false);
    }
  };

  const cancel = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setCancelResult(undefined);
    try {
      await must(api.POST('/api/v1/recovery/cancel', { body: { code: cancelCode.trim().toUpperCase() } }));
      setCancelCode('');
      setCancelResult({ ok: true, text: t('cancelled') });
    } catch (problem) {
      if (problem instanceof ApiProblem) {
        setCancelResult({
          ok: false,
          text:
            problem.code === 'recovery_failed'
              ? t('cancelFailed')
              : t('refused', { message: problem.message }),
        });
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="fr-grid-row fr-grid-row--center">
      <div className="fr-col-12 fr-col-md-10 fr-col-lg-8">
        <h1>{t('title')}</h1>
        <p>{t('intro')}</p>
        <section aria-labelledby="complete-title" className="fr-mb-6w">
          <h2 id="complete-title" className="fr-h4">
            {t('completeTitle')}
          </h2>
          {completed ? (
            <>
              <Alert
                severity="success"
                title={t('completedTitle')}
                description={t('completed')}
                className="fr-mb-3w"
              />
              <Button linkProps={{ to: '/connexion' }}>{t('goLogin')}</Button>
            </>
          ) : (
            <form onSubmit={complete}>
              {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
              <Input
                label={t('code')}
                hintText={t('codeHint')}
                nativeInputProps={{
                  value: code,
                  onChange: (e) => setCode(e.target.value),
                  required: true,
                  maxLength: 32,
                  autoComplete: 'one-time-code',
                  spellCheck: false,
                }}
              />
              <PasswordFields value={passwords} onChange={setPasswords} label={t('newPassword')} />
              <Button type="submit" disabled={busy}>
                {t('complete')}
              </Button>
            </form>
          )}
        </section>
        <section aria-labelledby="cancel-title">
          <h2 id="cancel-title" className="fr-h4">
            {t('cancelTitle')}
          </h2>
          <p>{t('cancelIntro')}</p>
          <form onSubmit={cancel}>
            {cancelResult && (
              <Alert
                severity={cancelResult.ok ? 'success' : 'error'}
                small
                description={cancelResult.text}
                className="fr-mb-3w"
              />
            )}
            <Input
              label={t('cancelCode')}
              hintText={t('codeHint')}
              nativeInputProps={{
                value: cancelCode,
                onChange: (e) => setCancelCode(e.target.value),
                required: true,
                maxLength: 32,
                autoComplete: 'off',
                spellCheck: false,
              }}
            />
            <Button type="submit" priority="secondary" disabled={busy}>
              {t('cancel')}
            </Button>
          </form>
        </section>
      </div>
    </div>
  );
}
