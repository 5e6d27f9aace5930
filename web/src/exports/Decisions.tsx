/**
 * "À décider": the pending exports of a manager's organisation, or of all for the DPO, with what was
 * asked (purpose, fields, filter), by whom and for whom. Approving or rejecting needs a fresh second
 * factor: `must(() => ...)` opens the step-up dialog and sends the decision again. The API refuses the
 * requester (self_approval) and an account the requester provisioned that week
 * (provisioned_by_requester): both are shown as what they are.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { ButtonsGroup } from '@codegouvfr/react-dsfr/ButtonsGroup';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { type ReactNode, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useFormatDateTime, useLang, useT } from '../i18n/i18n.tsx';
import { type ExportItem, fieldsOf, filterOf } from './exports.ts';
import { exportMessages } from './messages.ts';

type Outcome = { ok: boolean; title?: string; text: string };

/** The pending exports and their decision; `onDecided` reloads the list. */
export function Decisions({
  exports,
  me,
  onDecided,
}: {
  exports: ExportItem[];
  me: string;
  onDecided: () => void;
}): ReactNode {
  const t = useT(exportMessages);
  const { lang } = useLang();
  const when = useFormatDateTime();
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [outcomes, setOutcomes] = useState<Record<string, Outcome>>({});
  const [busy, setBusy] = useState(false);
  const pending = exports.filter((e) => e.state === 'pending');

  // The API's refusals of a decider, in words: the problem's `reason` says which rule refused
  // (docs/EXPORTS.md, "A different person").
  const refusal = (problem: ApiProblem): Outcome => {
    if (problem.reason === 'provisioned_by_requester')
      return { ok: false, title: t('refusedTitle'), text: t('refused_provisioned') };
    if (problem.reason === 'self_approval')
      return { ok: false, title: t('refusedTitle'), text: t('refused_self') };
    if (problem.code === 'conflict') return { ok: false, text: t('notPending') };
    return { ok: false, title: t('refusedTitle'), text: t('refused', { message: problem.message }) };
  };

  const decide = async (item: ExportItem, approve: boolean) => {
    setBusy(true);
    const note = (notes[item.id] ?? '').trim();
    try {
      await must(() =>
        api.POST(approve ? '/api/v1/exports/{id}/approve' : '/api/v1/exports/{id}/reject', {
          params: { path: { id: item.id } },
          body: note ? { note } : {},
        }),
      );
      setOutcomes((all) => ({
        ...all,
        [item.id]: { ok: true, text: t(approve ? 'approved' : 'rejectedDone') },
      }));
      onDecided();
    } catch (problem) {
      if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code)) {
        setOutcomes((all) => ({ ...all, [item.id]: refusal(problem) }));
        if (problem.code === 'conflict') onDecided();
      }
    } finally {
      setBusy(false);
    }
  };

  const decided = exports.filter((e) => outcomes[e.id] && e.state !== 'pending');
  return (
    <section aria-labelledby="decide-title" className="fr-mb-6w">
      <h2 id="decide-title">{t('decideTitle')}</h2>
      {decided.map((e) => (
        <Alert
          key={e.id}
          severity={outcomes[e.id]!.ok ? 'success' : 'error'}
          small
          description={outcomes[e.id]!.text}
          className="fr-mb-2w"
        />
      ))}
      {pending.length === 0 && <p>{t('noPending')}</p>}
      {pending.map((e) => {
        const who = `${e.requesterName} (${e.requesterLogin})`;
        const date = when(e.requestedAt);
        const mine = e.requestedBy === me;
        const outcome = outcomes[e.id];
        return (
          <section key={e.id} aria-labelledby={`export-${e.id}`} className="fr-card fr-p-3w fr-mb-3w">
            <h3 id={`export-${e.id}`} className="fr-h5">
              {t('pendingHeading', { date, who })}
            </h3>
            <dl>
              <dt>{t('purposeOf')}</dt>
              <dd>{t(`purpose_${e.purpose}`)}</dd>
              <dt>{t('fieldsOf')}</dt>
              <dd>{fieldsOf(t, e.fields)}</dd>
              <dt>{t('filterOf')}</dt>
              <dd>{filterOf(t, e.filter, lang)}</dd>
              <dt>{t('requestedBy')}</dt>
              <dd>{who}</dd>
              <dt>{t('recipientOf')}</dt>
              <dd>{e.recipientName}</dd>
            </dl>
            {outcome &&
              (outcome.title ? (
                <Alert
                  severity={outcome.ok ? 'success' : 'error'}
                  title={outcome.title}
                  description={outcome.text}
                  className="fr-mb-2w"
                />
              ) : (
                <Alert
                  severity={outcome.ok ? 'success' : 'error'}
                  small
                  description={outcome.text}
                  className="fr-mb-2w"
                />
              ))}
            {mine ? (
              <Badge severity="info" small noIcon>
                {t('yours')}
              </Badge>
            ) : (
              <>
                <Input
                  label={t('note')}
                  nativeInputProps={{
                    value: notes[e.id] ?? '',
                    maxLength: 500,
                    onChange: (event) => setNotes((all) => ({ ...all, [e.id]: event.target.value })),
                  }}
                />
                <ButtonsGroup
                  inlineLayoutWhen="md and up"
                  buttonsIconPosition="left"
                  buttons={[
                    {
                      children: t('approve'),
                      iconId: 'fr-icon-check-line',
                      disabled: busy,
                      title: t('approveLabel', { date, who }),
                      nativeButtonProps: { 'aria-label': t('approveLabel', { date, who }) },
                      onClick: () => void decide(e, true),
                    },
                    {
                      children: t('reject'),
                      iconId: 'fr-icon-close-line',
                      priority: 'secondary',
                      disabled: busy,
                      title: t('rejectLabel', { date, who }),
                      nativeButtonProps: { 'aria-label': t('rejectLabel', { date, who }) },
                      onClick: () => void decide(e, false),
                    },
                  ]}
                />
              </>
            )}
          </section>
        );
      })}
    </section>
  );
}
