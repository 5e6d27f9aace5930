/**
 * A new account's owner sets the password with the activation code mailed once another person
 * approved the account (POST /api/v1/activation), then logs in and enrols a second factor.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useT } from '../i18n/i18n.tsx';
import { recoveryMessages } from './messages.ts';
import { PasswordFields } from './PasswordFields.tsx';

/** The public activation screen. */
export default function ActivationPage(): ReactNode {
  const t = useT(recoveryMessages);
  const [code, setCode] = useState('');
  const [passwords, setPasswords] = useState({ password: '', confirm: '' });
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = `${t('activationTitle')} — Rempart`;
  }, [t]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    if (passwords.password !== passwords.confirm) {
      setError(t('mismatch'));
      return;
    }
    setBusy(true);
    try {
      await must(
        api.POST('/api/v1/activation', {
          body: { code: code.trim().toUpperCase(), password: passwords.password },
        }),
      );
      setPasswords({ password: '', confirm: '' });
      setDone(true);
    } catch (problem) {
      if (problem instanceof ApiProblem) {
        setError(
          problem.code === 'recovery_failed'
            ? t('activationFailed')
            : t('refused', { message: problem.message }),
        );
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="fr-grid-row fr-grid-row--center">
      <div className="fr-col-12 fr-col-md-10 fr-col-lg-8">
        <h1>{t('activationTitle')}</h1>
        <p>{t('activationIntro')}</p>
        {done ? (
          <>
            <Alert
              severity="success"
              title={t('activatedTitle')}
              description={t('activated')}
              className="fr-mb-3w"
            />
            <Button linkProps={{ to: '/connexion' }}>{t('goLogin')}</Button>
          </>
        ) : (
          <form onSubmit={submit}>
            {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
            <Input
              label={t('activationCode')}
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
            <PasswordFields value={passwords} onChange={setPasswords} label={t('password')} />
            <Button type="submit" disabled={busy}>
              {t('activate')}
            </Button>
          </form>
        )}
      </div>
    </div>
  );
}
