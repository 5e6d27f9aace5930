/**
 * The public check of a signed notice (T6), on the /verifier page: a person pastes the notice they
 * received (mail, or the text of a letter's PDF) and learns whether Rempart signed it unaltered,
 * under which published key, and its kind and date. The text goes in the request body as its lines,
 * never in the address; the published keys are linked for checking offline.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { type FormEvent, type ReactNode, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useLang, useT } from '../i18n/i18n.tsx';
import { noticeMessages } from './notice-messages.ts';

type Result =
  | { genuine: true; signedBy: string; sentAt?: string; kind?: string }
  | { genuine: false; signedBy?: null }
  | { error: string };

/** Characters of a notice accepted (the API's limit). */
const MAX_CHARS = 16_384;

/** The pasted-notice check. */
export default function NoticeCheck(): ReactNode {
  const t = useT(noticeMessages);
  const { lang } = useLang();
  const [text, setText] = useState('');
  const [result, setResult] = useState<Result | undefined>();
  const [busy, setBusy] = useState(false);

  const check = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setResult(undefined);
    try {
      const lines = text.replace(/\r\n/g, '\n').replace(/\s+$/, '').split('\n');
      setResult(await must(api.POST('/api/v1/notices/verify', { body: { lines } })));
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

  const describe = (found: { signedBy: string; sentAt?: string; kind?: string }): string => {
    const signed = t('signedBy', { key: found.signedBy });
    if (!found.sentAt) return signed;
    const date = new Date(found.sentAt).toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB', {
      dateStyle: 'long',
      timeStyle: 'short',
    });
    const kind = found.kind === 'incident_notice' ? t('incidentNotice') : (found.kind ?? '');
    return `${signed} ${t('sent', { kind, date })}`;
  };

  return (
    <section aria-labelledby="notice-check-title" className="fr-mt-6w">
      <h2 id="notice-check-title">{t('title')}</h2>
      <p>{t('intro')}</p>
      <form onSubmit={check} className="fr-mb-4w">
        <Input
          label={t('notice')}
          hintText={t('noticeHint')}
          textArea
          nativeTextAreaProps={{
            value: text,
            onChange: (e) => setText(e.target.value),
            required: true,
            maxLength: MAX_CHARS,
            rows: 10,
            spellCheck: false,
            autoComplete: 'off',
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
      <p className="fr-text--sm fr-mt-2w">
        {t('offline')} <a href="/api/v1/notices/keys">{t('keysLink')}</a>
      </p>
    </section>
  );
}
