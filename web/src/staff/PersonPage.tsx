/**
 * A person's record, with exactly the fields the server's policy returned for this role and purpose
 * (GET /api/v1/persons/{id}, or the justified national view), and the contact change where the role
 * may make it (PATCH /api/v1/persons/{id}/contact). The record is in this page's memory only.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { type FormEvent, lazy, type ReactNode, Suspense, useEffect, useRef, useState } from 'react';
import { ApiProblem, api, must } from '../api/client.ts';
import { useLang, useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { formatField } from './fields.tsx';
import { searchMessages } from './search-messages.ts';
import { type Selection, useSelection } from './selection.tsx';

// The DPO's access history (a data-subject request) loads only for the DPO.
const AccessHistory = lazy(() => import('../dpo/AccessHistory.tsx'));
// A counselor hands a document of the person to a subcontractor (work items, T4).
const HandOverForm = lazy(() => import('../workitems/HandOverForm.tsx'));

type View = { person: Record<string, unknown> & { id: string }; fields: string[] };

async function loadView(selection: Selection): Promise<View> {
  if (selection.justification) {
    return must(() =>
      api.POST('/api/v1/persons/{id}/national-view', {
        params: { path: { id: selection.id } },
        body: { purpose: selection.purpose, justification: selection.justification! },
      }),
    ) as Promise<View>;
  }
  return must(() =>
    api.GET('/api/v1/persons/{id}', {
      params: { path: { id: selection.id }, query: { purpose: selection.purpose } },
    }),
  ) as Promise<View>;
}

/** The record screen. */
export function PersonPage(): ReactNode {
  const t = useT(searchMessages);
  const { lang } = useLang();
  const { me } = useSession();
  const { selection } = useSelection();
  const [view, setView] = useState<View | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [saved, setSaved] = useState<string | undefined>();
  const [contact, setContact] = useState({ email: '', phone: '', line: '', postalCode: '', city: '' });

  useEffect(() => {
    document.title = `${t('recordTitle')} — Rempart`;
  }, [t]);
  // Each read of the record is an audited read of the person (docs/ARCHITECTURE.md, the gate): it
  // happens once per opening, never again because the language changed or an effect ran twice.
  const readFor = useRef<Selection | undefined>(undefined);
  const tRef = useRef(t);
  tRef.current = t;
  useEffect(() => {
    if (!selection || readFor.current === selection) return;
    readFor.current = selection;
    setView(undefined);
    loadView(selection).then(
      (loaded) => {
        setView(loaded);
        const p = loaded.person as {
          email?: string | null;
          phone?: string | null;
          address?: { line: string; postalCode: string; city: string } | null;
        };
        setContact({
          email: p.email ?? '',
          phone: p.phone ?? '',
          line: p.address?.line ?? '',
          postalCode: p.address?.postalCode ?? '',
          city: p.address?.city ?? '',
        });
      },
      (problem: unknown) => {
        if (problem instanceof ApiProblem && !['throttled', 'account_suspended'].includes(problem.code)) {
          setError(tRef.current('error', { message: problem.message }));
        }
      },
    );
  }, [selection]);

  if (!selection) {
    return (
      <>
        <h1>{t('recordTitle')}</h1>
        <p>{t('noSelection')}</p>
        <Button linkProps={{ to: '/recherche' }}>{t('backToSearch')}</Button>
      </>
    );
  }
  const canChangeContact =
    me?.account.role === 'counselor' && selection.purpose === 'accompaniment' && !selection.justification;

  const saveContact = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(undefined);
    setError(undefined);
    try {
      const address =
        contact.line.trim() === ''
          ? null
          : { line: contact.line.trim(), postalCode: contact.postalCode.trim(), city: contact.city.trim() };
      const answer = await must(() =>
        api.PATCH('/api/v1/persons/{id}/contact', {
          params: { path: { id: selection.id } },
          body: {
            purpose: selection.purpose,
            email: contact.email.trim() || null,
            phone: contact.phone.trim() || null,
            address,
          } as never,
        }),
      );
      setSaved(t('contactSaved', { fields: (answer as { updated: string[] }).updated.join(', ') }));
    } catch (problem) {
      if (problem instanceof ApiProblem) setError(t('error', { message: problem.message }));
    }
  };

  return (
    <>
      <h1>{t('recordTitle')}</h1>
      <p>{t('recordIntro', { purpose: t(`purpose_${selection.purpose}`) })}</p>
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      {view && (
        <div className="fr-table fr-table--no-caption">
          <div className="fr-table__wrapper">
            <div className="fr-table__container">
              <div className="fr-table__content">
                <table>
                  <caption>{t('recordTitle')}</caption>
                  <tbody>
                    {view.fields.map((f) => (
                      <tr key={f}>
                        <th scope="row">{t(`col_${f}` as never)}</th>
                        <td>{formatField(f, view.person, lang)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          </div>
        </div>
      )}
      {view && canChangeContact && (
        <form onSubmit={saveContact} className="fr-mt-5w">
          <h2 className="fr-h4">{t('contactTitle')}</h2>
          {saved && <Alert severity="success" small description={saved} className="fr-mb-3w" />}
          <Input
            label={t('email')}
            nativeInputProps={{
              type: 'email',
              value: contact.email,
              onChange: (e) => setContact({ ...contact, email: e.target.value }),
              maxLength: 254,
            }}
          />
          <Input
            label={t('phone')}
            nativeInputProps={{
              type: 'tel',
              value: contact.phone,
              onChange: (e) => setContact({ ...contact, phone: e.target.value }),
              maxLength: 32,
            }}
          />
          <Input
            label={t('addressLine')}
            nativeInputProps={{
              value: contact.line,
              onChange: (e) => setContact({ ...contact, line: e.target.value }),
              maxLength: 200,
            }}
          />
          <div className="fr-grid-row fr-grid-row--gutters">
            <Input
              className="fr-col-12 fr-col-md-4"
              label={t('postalCode')}
              nativeInputProps={{
                value: contact.postalCode,
                onChange: (e) => setContact({ ...contact, postalCode: e.target.value }),
                maxLength: 10,
              }}
            />
            <Input
              className="fr-col-12 fr-col-md-8"
              label={t('city')}
              nativeInputProps={{
                value: contact.city,
                onChange: (e) => setContact({ ...contact, city: e.target.value }),
                maxLength: 100,
              }}
            />
          </div>
          <Button type="submit">{t('saveContact')}</Button>
        </form>
      )}
      {view && me?.account.role === 'counselor' && !selection.justification && (
        <Suspense fallback={null}>
          <HandOverForm personId={selection.id} purpose={selection.purpose} />
        </Suspense>
      )}
      {view && me?.account.role === 'dpo' && (
        <Suspense fallback={null}>
          <AccessHistory selection={selection} />
        </Suspense>
      )}
      <Button className="fr-mt-3w" priority="tertiary" linkProps={{ to: '/recherche' }}>
        {t('backToSearch')}
      </Button>
    </>
  );
}
