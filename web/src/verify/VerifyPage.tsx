/**
 * The public page where anyone checks a message's verification code (T6: phishing with accurate
 * personal data followed each breach), reached from the link every message carries
 * (`<PUBLIC_URL>/verifier`). No login. The code is typed, never carried in the address: a link with
 * the code would let a phisher send a link to a fake page that "confirms" it.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useLang, useT } from '../i18n/i18n.tsx';
import { verifyMessages } from './messages.ts';
import NoticeCheck from './NoticeCheck.tsx';

type Result =
  | { genuine: true; kind: string; channel: string; sentAt: string }
  | { genuine: false }
  | { error: string };

const KINDS = new Set([
  'incident_notice',
  'access_receipt',
  'portal_login_code',
  'account_locked',
  'recovery_code',
  'login_locked',
  'recovery_opened',
]);
const CHANNELS = new Set(['email', 'sms', 'letter', 'portal', 'in_app']);

/** The public message check. */
export default function VerifyPage(): ReactNode {
  const t = useT(verifyMessages);
  const { lang } = useLang();
  const [code, setCode] = useState('');
  const [result, setResult] = useState<Result | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
  }, [t]);

  const check = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setResult(undefined);
    try {
      setResult(await must(api.POST('/api/v1/messages/verify', { body: { code: code.trim() } })));
    } catch (problem) {
      if (problem instanceof ApiProblem) {
        setResult({
          error: problem.code === 'throttled' ? t('throttled') : t('refused', { message: problem.message }),
        });
      }
    } finally {
      setBusy(false);
    }
  };

  const describe = (found: { kind: string; channel: string; sentAt: string }): string => {
    const kind = KINDS.has(found.kind)
      ? t(`kind.${found.kind}` as 'kind.incident_notice')
      : t('kind.other', { kind: found.kind });
    const channel = CHANNELS.has(found.channel)
      ? t(`channel.${found.channel}` as 'channel.email')
      : found.channel;
    const date = new Date(found.sentAt).toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB', {
      dateStyle: 'long',
      timeStyle: 'short',
    });
    return t('genuine', { kind, channel, date });
  };

  return (
    <div className="fr-grid-row fr-grid-row--center">
      <div className="fr-col-12 fr-col-md-10 fr-col-lg-8">
        <h1>{t('title')}</h1>
        <p>{t('intro')}</p>
        <form onSubmit={check} className="fr-mb-4w">
          <Input
            label={t('code')}
            hintText={t('codeHint')}
            nativeInputProps={{
              value: code,
              onChange: (e) => setCode(e.target.value),
              required: true,
              maxLength: 64,
              autoComplete: 'off',
              spellCheck: false,
            }}
          />
          <Button type="submit" disabled={busy}>
            {t('check')}
          </Button>
        </form>
        <div aria-live="polite">
          {result && 'error' in result && <Alert severity="error" small description={result.error} />}
          {result && 'genuine' in result && result.genuine && (
            <Alert
              severity="success"
              title={t('genuineTitle')}
              description={`${describe(result)} ${t('genuineAdvice')}`}
            />
          )}
          {result && 'genuine' in result && !result.genuine && (
            <Alert severity="warning" title={t('notGenuineTitle')} description={t('notGenuine')} />
          )}
        </div>
        <NoticeCheck />
      </div>
    </div>
  );
}
