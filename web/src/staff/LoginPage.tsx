/**
 * Staff login: login and password (the first factor), then the second factor, or a passkey alone.
 * A new account goes on to enrol its first factor. Every refusal reads the same, as the API answers
 * it (no account enumeration: docs/SECURITY.md).
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { PasswordInput } from '@codegouvfr/react-dsfr/blocks/PasswordInput';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { startAuthentication } from '@simplewebauthn/browser';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiProblem, api, must } from '../api/client.ts';
import { useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { staffMessages } from './messages.ts';
import { ProConnectLogin } from './ProConnectLogin.tsx';
import { SecondFactor } from './SecondFactor.tsx';

/** The login screen. */
export function LoginPage(): ReactNode {
  const t = useT(staffMessages);
  const navigate = useNavigate();
  const { me, refresh } = useSession();
  const [step, setStep] = useState<'password' | 'second'>('password');
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = `${t('loginTitle')} — Rempart`;
  }, [t]);
  useEffect(() => {
    if (me?.assurance === 'mfa') void navigate('/', { replace: true });
  }, [me, navigate]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const answer = await must(api.POST('/api/v1/auth/login', { body: { login: login.trim(), password } }));
      setPassword('');
      if (answer.next === 'enrol_second_factor') {
        await refresh();
        void navigate('/second-facteur');
      } else setStep('second');
    } catch (problem) {
      setError(
        problem instanceof ApiProblem && problem.code === 'throttled' ? problem.message : t('loginFailed'),
      );
    } finally {
      setBusy(false);
    }
  };

  const passkey = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const options = await must(api.POST('/api/v1/auth/passkey/options'));
      const response = await startAuthentication({ optionsJSON: options as never });
      await must(api.POST('/api/v1/auth/passkey', { body: { response: response as never } }));
      await refresh();
      void navigate('/');
    } catch {
      setError(t('passkeyFailed'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="fr-grid-row fr-grid-row--gutters fr-grid-row--center">
      <div className="fr-col-12 fr-col-md-8 fr-col-lg-6">
        <h1>{t('loginTitle')}</h1>
        {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
        {step === 'password' ? (
          <>
            <ProConnectLogin />
            <p>{t('loginIntro')}</p>
            <form onSubmit={submit}>
              <Input
                label={t('login')}
                nativeInputProps={{
                  value: login,
                  onChange: (e) => setLogin(e.target.value),
                  autoComplete: 'username',
                  required: true,
                  maxLength: 64,
                  name: 'username',
                }}
              />
              <PasswordInput
                label={t('password')}
                nativeInputProps={{
                  value: password,
                  onChange: (e) => setPassword(e.target.value),
                  autoComplete: 'current-password',
                  required: true,
                  maxLength: 1024,
                  name: 'password',
                }}
              />
              <Button type="submit" disabled={busy}>
                {t('submit')}
              </Button>
            </form>
            <h2 className="fr-h5 fr-mt-5w">{t('passkeyTitle')}</h2>
            <p>{t('passkeyText')}</p>
            <Button
              priority="secondary"
              iconId="fr-icon-fingerprint-line"
              onClick={() => void passkey()}
              disabled={busy}
            >
              {t('passkeyButton')}
            </Button>
          </>
        ) : (
          <>
            <h2 className="fr-h4">{t('secondFactorTitle')}</h2>
            <p>{t('secondFactorIntro')}</p>
            <SecondFactor
              onVerified={() => {
                void refresh().then(() => navigate('/'));
              }}
              onCancel={() => setStep('password')}
            />
          </>
        )}
      </div>
    </div>
  );
}
