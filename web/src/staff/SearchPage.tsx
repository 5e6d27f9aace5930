/**
 * The search (POST /api/v1/persons/search): a required purpose, one exact criterion, at most 10
 * results, "narrow your search" past that. The criteria go in the request body; the page's address
 * and title never hold them, and nothing is kept in browser storage.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Checkbox } from '@codegouvfr/react-dsfr/Checkbox';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { RadioButtons } from '@codegouvfr/react-dsfr/RadioButtons';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiProblem, api, must } from '../api/client.ts';
import type { paths } from '../api/schema';
import { useLang, useT } from '../i18n/i18n.tsx';
import { type Role, useSession } from '../session.tsx';
import { formatField } from './fields.tsx';
import { SEARCH_RULES, type SearchBy } from './purposes.ts';
import { searchMessages } from './search-messages.ts';
import { useSelection } from './selection.tsx';

type SearchAnswer = paths['/api/v1/persons/search']['post']['responses'][200]['content']['application/json'];

/** The search screen. */
export function SearchPage(): ReactNode {
  const t = useT(searchMessages);
  const { lang } = useLang();
  const navigate = useNavigate();
  const { me } = useSession();
  const { select } = useSelection();
  const rules = SEARCH_RULES[me?.account.role as Role] ?? [];
  const [purposeIndex, setPurposeIndex] = useState(0);
  const rule = rules[purposeIndex] ?? rules[0];
  const [by, setBy] = useState<SearchBy>(rule?.by[0] ?? 'agencyId');
  const [form, setForm] = useState({ agencyId: '', nir: '', lastName: '', firstName: '', birthDate: '' });
  const [national, setNational] = useState(false);
  const [justification, setJustification] = useState('');
  const [answer, setAnswer] = useState<
    (SearchAnswer & { purpose: string; justification?: string }) | undefined
  >();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
  }, [t]);
  useEffect(() => {
    if (rule && !rule.by.includes(by)) setBy(rule.by[0] ?? 'agencyId');
  }, [rule, by]);

  if (!rule) return null;
  const isNational = rule.reach === 'national' || (rule.reach === 'everyday' && national);
  const field = (name: keyof typeof form) => ({
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value }),
    required: true,
    autoComplete: 'off',
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setAnswer(undefined);
    const criteria =
      by === 'agencyId'
        ? { agencyId: form.agencyId.trim() }
        : by === 'nir'
          ? { nir: form.nir.replace(/\s+/g, '') }
          : { lastName: form.lastName.trim(), firstName: form.firstName.trim(), birthDate: form.birthDate };
    const body = {
      purpose: rule.purpose,
      by,
      ...criteria,
      ...(isNational ? { national: true, justification: justification.trim() } : {}),
    };
    try {
      const found = await must(() => api.POST('/api/v1/persons/search', { body }));
      setAnswer({
        ...found,
        purpose: rule.purpose,
        ...(isNational ? { justification: justification.trim() } : {}),
      });
    } catch (problem) {
      if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code)) {
        setError(t('error', { message: problem.message }));
      }
    } finally {
      setBusy(false);
    }
  };

  const columns = (answer?.fields ?? []).filter((f) => f !== 'registrationPeriods');
  return (
    <>
      <h1>{t('title')}</h1>
      <p>{t('intro')}</p>
      <form onSubmit={submit} className="fr-mb-5w">
        <Select
          label={t('purpose')}
          hint={t('purposeHint')}
          nativeSelectProps={{
            value: String(purposeIndex),
            onChange: (e) => setPurposeIndex(Number(e.target.value)),
            required: true,
          }}
        >
          {rules.map((r, index) => (
            <option key={r.purpose} value={index}>
              {t(`purpose_${r.purpose}`)}
            </option>
          ))}
        </Select>
        <RadioButtons
          legend={t('by')}
          orientation="horizontal"
          options={rule.by.map((b) => ({
            label: t(`by_${b}`),
            nativeInputProps: { checked: by === b, onChange: () => setBy(b), value: b },
          }))}
        />
        {by === 'agencyId' && (
          <Input label={t('agencyId')} nativeInputProps={{ ...field('agencyId'), maxLength: 16 }} />
        )}
        {by === 'nir' && (
          <Input
            label={t('nir')}
            hintText={t('nirHint')}
            nativeInputProps={{ ...field('nir'), maxLength: 21 }}
          />
        )}
        {by === 'nameBirth' && (
          <div className="fr-grid-row fr-grid-row--gutters">
            <Input
              className="fr-col-12 fr-col-md-4"
              label={t('lastName')}
              nativeInputProps={{ ...field('lastName'), maxLength: 100 }}
            />
            <Input
              className="fr-col-12 fr-col-md-4"
              label={t('firstName')}
              nativeInputProps={{ ...field('firstName'), maxLength: 100 }}
            />
            <Input
              className="fr-col-12 fr-col-md-4"
              label={t('birthDate')}
              hintText={t('birthDateHint')}
              nativeInputProps={{
                ...field('birthDate'),
                inputMode: 'numeric',
                pattern: '[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?',
                maxLength: 10,
              }}
            />
          </div>
        )}
        {rule.reach === 'everyday' && (
          <Checkbox
            options={[
              {
                label: t('national'),
                hintText: t('nationalHint'),
                nativeInputProps: { checked: national, onChange: (e) => setNational(e.target.checked) },
              },
            ]}
          />
        )}
        {isNational && (
          <Input
            label={t('justification')}
            hintText={t('justificationHint')}
            textArea
            nativeTextAreaProps={{
              value: justification,
              onChange: (e) => setJustification(e.target.value),
              required: true,
              maxLength: 500,
            }}
          />
        )}
        <Button type="submit" iconId="fr-icon-search-line" disabled={busy}>
          {t('submit')}
        </Button>
      </form>
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      {answer && (
        <section aria-labelledby="results-title">
          <h2 id="results-title">{t('results')}</h2>
          {answer.more && (
            <Alert severity="info" small description={t('more', { cap: answer.cap })} className="fr-mb-3w" />
          )}
          {answer.results.length === 0 ? (
            <p>{t('noResult')}</p>
          ) : (
            <Table
              headers={[...columns.map((c) => t(`col_${c}`)), '']}
              data={answer.results.map((person) => [
                ...columns.map((c) => formatField(c, person, lang)),
                <Button
                  key="open"
                  size="small"
                  priority="secondary"
                  onClick={() => {
                    select({
                      id: person.id,
                      purpose: answer.purpose as never,
                      ...(answer.justification ? { justification: answer.justification } : {}),
                    });
                    void navigate('/dossier');
                  }}
                >
                  {t('open')}
                </Button>,
              ])}
            />
          )}
        </section>
      )}
    </>
  );
}
