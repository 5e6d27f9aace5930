/**
 * Verifying a second factor: a code from the authenticator app, a passkey or security key
 * (WebAuthn through @simplewebauthn/browser), or a single-use recovery code. Used at login and for
 * the guard's step-up; the session is raised (or refreshed) by the server, which sends a new CSRF token.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { startAuthentication } from '@simplewebauthn/browser';
import { type FormEvent, type ReactNode, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useT } from '../i18n/i18n.tsx';
import { staffMessages } from './messages.ts';

/** The second-factor form; `onVerified` runs once the server raised the session. */
export function SecondFactor({
  onVerified,
  onCancel,
}: {
  onVerified: () => void;
  onCancel?: () => void;
}): ReactNode {
  const t = useT(staffMessages);
  const [mode, setMode] = useState<'totp' | 'recovery'>('totp');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submitCode = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'totp') await must(api.POST('/api/v1/auth/totp', { body: { code: code.trim() } }));
      else await must(api.POST('/api/v1/auth/recovery-code', { body: { code: code.trim() } }));
      setCode('');
      onVerified();
    } catch (problem) {
      setError(problemText(problem));
    } finally {
      setBusy(false);
    }
  };

  const verifyWithKey = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const options = await must(api.POST('/api/v1/auth/webauthn/options'));
      const response = await startAuthentication({ optionsJSON: options as never });
      await must(api.POST('/api/v1/auth/webauthn', { body: { response: response as never } }));
      onVerified();
    } catch (problem) {
      setError(
        problem instanceof ApiProblem && problem.code === 'not_found' ? t('noKey') : problemText(problem),
      );
    } finally {
      setBusy(false);
    }
  };

  const problemText = (problem: unknown): string =>
    problem instanceof ApiProblem && (problem.code === 'throttled' || problem.code === 'account_suspended')
      ? problem.message
      : t('secondFactorFailed');

  return (
    <div>
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      <form onSubmit={submitCode}>
        {mode === 'totp' ? (
          <Input
            label={t('totpCode')}
            hintText={t('totpHint')}
            nativeInputProps={{
              value: code,
              onChange: (e) => setCode(e.target.value),
              inputMode: 'numeric',
              autoComplete: 'one-time-code',
              pattern: '[0-9 ]*',
              required: true,
              maxLength: 16,
            }}
          />
        ) : (
          <Input
            label={t('recoveryCode')}
            hintText={t('recoveryCodeHint')}
            nativeInputProps={{
              value: code,
              onChange: (e) => setCode(e.target.value),
              autoComplete: 'off',
              required: true,
              maxLength: 32,
            }}
          />
        )}
        <ul className="fr-btns-group fr-btns-group--inline-md">
          <li>
            <Button type="submit" disabled={busy}>
              {t('verify')}
            </Button>
          </li>
          <li>
            <Button
              type="button"
              priority="secondary"
              iconId="fr-icon-fingerprint-line"
              onClick={() => void verifyWithKey()}
              disabled={busy}
            >
              {t('useKey')}
            </Button>
          </li>
          {onCancel && (
            <li>
              <Button type="button" priority="tertiary" onClick={onCancel}>
                {t('cancel')}
              </Button>
            </li>
          )}
        </ul>
      </form>
      {mode === 'totp' && (
        <Button priority="tertiary no outline" size="small" onClick={() => setMode('recovery')}>
          {t('useRecoveryCode')}
        </Button>
      )}
    </div>
  );
}
