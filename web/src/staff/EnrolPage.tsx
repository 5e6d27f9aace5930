/**
 * First login: enrol the account's first second factor (a passkey or security key preferred, an
 * authenticator app accepted), then see the ten recovery codes once. The codes live in this
 * component's memory only, never in storage, and are gone when the person moves on.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { startRegistration } from '@simplewebauthn/browser';
import { toDataURL } from 'qrcode';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, must } from '../api/client.ts';
import { useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { staffMessages } from './messages.ts';

interface TotpSetup {
  factorId: string;
  secret: string;
  qr: string;
}

/** The enrolment screen. */
export function EnrolPage(): ReactNode {
  const t = useT(staffMessages);
  const navigate = useNavigate();
  const { me, refresh } = useSession();
  const [setup, setSetup] = useState<TotpSetup | undefined>();
  const [code, setCode] = useState('');
  const [label, setLabel] = useState('');
  const [codes, setCodes] = useState<string[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = `${t('enrolTitle')} — Rempart`;
  }, [t]);
  useEffect(() => {
    if (me === null) void navigate('/connexion', { replace: true });
  }, [me, navigate]);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (problem) {
      setError(problem instanceof Error ? problem.message : t('secondFactorFailed'));
    } finally {
      setBusy(false);
    }
  };

  const startTotp = () =>
    run(async () => {
      const started = await must(api.POST('/api/v1/me/factors/totp', { body: null }));
      setSetup({
        factorId: started.factorId,
        secret: started.secret,
        qr: await toDataURL(started.otpauthUri, { margin: 1, width: 220 }),
      });
    });

  const confirmTotp = (event: FormEvent) => {
    event.preventDefault();
    if (!setup) return;
    void run(async () => {
      const answer = await must(
        api.POST('/api/v1/me/factors/totp/confirm', {
          body: { factorId: setup.factorId, code: code.trim() },
        }),
      );
      setSetup(undefined);
      setCodes(answer.recoveryCodes ?? []);
    });
  };

  const registerKey = () =>
    run(async () => {
      const options = await must(api.POST('/api/v1/me/factors/webauthn/options', { body: null }));
      const response = await startRegistration({ optionsJSON: options as never });
      const answer = await must(
        api.POST('/api/v1/me/factors/webauthn', {
          body: { response: response as never, ...(label.trim() ? { label: label.trim() } : {}) },
        }),
      );
      setCodes((answer as { recoveryCodes?: string[] }).recoveryCodes ?? []);
    });

  if (codes) {
    return (
      <div className="fr-col-12 fr-col-md-8">
        <h1>{t('recoveryTitle')}</h1>
        <Alert severity="warning" small description={t('recoveryIntro')} className="fr-mb-3w" />
        <ol className="fr-text--lg" aria-label={t('recoveryTitle')}>
          {codes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ol>
        <Button
          onClick={() => {
            setCodes(undefined);
            void refresh().then(() => navigate('/'));
          }}
        >
          {t('recoveryDone')}
        </Button>
      </div>
    );
  }

  return (
    <div className="fr-col-12 fr-col-md-10">
      <h1>{t('enrolTitle')}</h1>
      <p>{t('enrolIntro')}</p>
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      <div className="fr-grid-row fr-grid-row--gutters">
        <section className="fr-col-12 fr-col-md-6">
          <h2 className="fr-h4">{t('enrolKeyTitle')}</h2>
          <Input
            label={t('enrolKeyLabel')}
            nativeInputProps={{ value: label, onChange: (e) => setLabel(e.target.value), maxLength: 64 }}
          />
          <Button iconId="fr-icon-fingerprint-line" onClick={() => void registerKey()} disabled={busy}>
            {t('enrolKeyButton')}
          </Button>
        </section>
        <section className="fr-col-12 fr-col-md-6">
          <h2 className="fr-h4">{t('enrolTotpTitle')}</h2>
          {!setup ? (
            <Button priority="secondary" onClick={() => void startTotp()} disabled={busy}>
              {t('enrolTotpStart')}
            </Button>
          ) : (
            <form onSubmit={confirmTotp}>
              <p>{t('enrolTotpScan')}</p>
              <img src={setup.qr} alt={t('qrAlt')} width={220} height={220} />
              <p>
                {t('enrolTotpSecret')} : <code data-testid="totp-secret">{setup.secret}</code>
              </p>
              <Input
                label={t('totpCode')}
                hintText={t('totpHint')}
                nativeInputProps={{
                  value: code,
                  onChange: (e) => setCode(e.target.value),
                  inputMode: 'numeric',
                  autoComplete: 'one-time-code',
                  required: true,
                  maxLength: 16,
                }}
              />
              <Button type="submit" disabled={busy}>
                {t('enrolTotpConfirm')}
              </Button>
            </form>
          )}
        </section>
      </div>
    </div>
  );
}
