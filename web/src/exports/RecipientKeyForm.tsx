/**
 * The DPO registers (or replaces) an organisation's age public key (POST /api/v1/exports/recipients):
 * its export files are encrypted for that key alone. Needs a fresh second factor: the step-up dialog
 * asks for it when the session's is too old.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { type FormEvent, type ReactNode, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useT } from '../i18n/i18n.tsx';
import type { ExportOptions } from './exports.ts';
import { exportMessages } from './messages.ts';

/** The key form; `onSaved` reloads the recipients. */
export function RecipientKeyForm({
  recipients,
  onSaved,
}: {
  recipients: ExportOptions['recipients'];
  onSaved: () => void;
}): ReactNode {
  const t = useT(exportMessages);
  const [organisation, setOrganisation] = useState('');
  const [key, setKey] = useState('');
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const name = recipients.find((r) => r.id === organisation)?.name ?? '';
    setBusy(true);
    setNotice(undefined);
    try {
      await must(() =>
        api.POST('/api/v1/exports/recipients', {
          body: { organisationId: organisation, ageRecipient: key.trim() },
        }),
      );
      setNotice({ ok: true, text: t('keySaved', { name }) });
      setKey('');
      onSaved();
    } catch (problem) {
      if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code))
        setNotice({ ok: false, text: t('refused', { message: problem.message }) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="fr-mb-6w" aria-labelledby="key-title">
      <h2 id="key-title">{t('keyTitle')}</h2>
      <p>{t('keyIntro')}</p>
      {notice && (
        <Alert
          severity={notice.ok ? 'success' : 'error'}
          small
          description={notice.text}
          className="fr-mb-3w"
        />
      )}
      <Select
        label={t('organisation')}
        nativeSelectProps={{
          value: organisation,
          required: true,
          onChange: (e) => setOrganisation(e.target.value),
        }}
      >
        <option value="" disabled>
          {t('choose')}
        </option>
        {recipients.map((r) => (
          <option key={r.id} value={r.id}>
            {r.keyRegistered ? t('hasKey', { name: r.name }) : r.name}
          </option>
        ))}
      </Select>
      <Input
        label={t('ageKey')}
        hintText={t('ageKeyHint')}
        nativeInputProps={{
          value: key,
          required: true,
          spellCheck: false,
          autoComplete: 'off',
          onChange: (e) => setKey(e.target.value),
        }}
      />
      <Button type="submit" disabled={busy}>
        {t('saveKey')}
      </Button>
    </form>
  );
}
