/**
 * The person's space (docs/PORTAL.md): login by a code sent by email, then their data, who read
 * their record (each entry verified in the browser against the signed audit log: verify.ts), the
 * incidents that concern them, access receipts with "I don't recognise this", and a link to check a
 * message's code. No person data in the URL, the title or browser storage.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { CallOut } from '@codegouvfr/react-dsfr/CallOut';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { RadioButtons } from '@codegouvfr/react-dsfr/RadioButtons';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { ApiProblem, api, csrfToken, must, setCsrfToken } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { FranceConnectLogin } from './FranceConnectLogin.tsx';
import { usePortalLabels } from './labels.ts';
import { MyNotices } from './MyNotices.tsx';
import { portalMessages } from './messages.ts';
import { type EntryCheck, type VerifiedCheckpoint, verifyCheckpoint, verifyEntry } from './verify.ts';

type Me = { personId: string; method: string; expiresAt: string };

/** The portal: the login, or the person's space once logged in. */
export default function PortalPage(): ReactNode {
  const t = useT(portalMessages);
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const refresh = useCallback(async () => {
    const { data, response } = await api.GET('/api/v1/portal/me');
    if (response.ok && data && csrfToken() === null) {
      // A session with no token in this tab: FranceConnect's callback opened it in a cross-site
      // redirect and left its CSRF token for one read (docs/FRANCECONNECT.md); 404 when there is none.
      const taken = await api.GET('/api/v1/portal/franceconnect/session');
      if (taken.data) setCsrfToken(taken.data.csrfToken);
    }
    setMe(response.ok && data ? data : null);
  }, []);
  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
    void refresh();
  }, [t, refresh]);
  if (me === undefined) return null;
  return (
    <>
      <h1>{t('title')}</h1>
      {me === null ? <Login onDone={refresh} /> : <Space me={me} onLogout={refresh} />}
    </>
  );
}

function Login({ onDone }: { onDone: () => Promise<void> }): ReactNode {
  const t = useT(portalMessages);
  const [email, setEmail] = useState('');
  const [challenge, setChallenge] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [franceconnect, setFranceconnect] = useState<boolean | undefined>(undefined);
  const [search] = useSearchParams();
  useEffect(() => {
    api.GET('/api/v1/portal/franceconnect').then(
      ({ data }) => setFranceconnect(data?.enabled ?? false),
      () => setFranceconnect(false),
    );
  }, []);
  const send = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      const started = await must(api.POST('/api/v1/portal/login/start', { body: { email } }));
      setChallenge(started.challenge);
    } catch (e) {
      setError(
        e instanceof ApiProblem && e.status === 429
          ? t('throttled')
          : e instanceof Error
            ? e.message
            : String(e),
      );
    }
  };
  const verify = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      await must(
        api.POST('/api/v1/portal/login/verify', {
          body: { challenge: challenge!, code: code.replace(/\s/g, '') },
        }),
      );
      await onDone();
    } catch {
      setError(t('loginFailed'));
    }
  };
  return (
    <>
      <FranceConnectLogin enabled={franceconnect} result={search.get('franceconnect')} />
      <p>{t('loginIntro')}</p>
      {error && <Alert severity="error" small description={error} className="fr-mb-2w" />}
      <form onSubmit={send}>
        <Input
          label={t('email')}
          nativeInputProps={{
            type: 'email',
            autoComplete: 'email',
            required: true,
            value: email,
            onChange: (e) => setEmail(e.target.value),
          }}
        />
        <Button type="submit">{t('sendCode')}</Button>
      </form>
      {challenge && (
        <form onSubmit={verify} className="fr-mt-4w">
          <Alert severity="info" small description={t('codeSent')} className="fr-mb-2w" />
          <Input
            label={t('code')}
            hintText={t('codeHint')}
            nativeInputProps={{
              inputMode: 'numeric',
              autoComplete: 'one-time-code',
              required: true,
              value: code,
              onChange: (e) => setCode(e.target.value),
            }}
          />
          <Button type="submit">{t('login')}</Button>
        </form>
      )}
    </>
  );
}

function Space({ me, onLogout }: { me: Me; onLogout: () => Promise<void> }): ReactNode {
  const t = useT(portalMessages);
  const logout = async (): Promise<void> => {
    await must(api.POST('/api/v1/portal/logout'));
    await onLogout();
  };
  return (
    <>
      <Button priority="secondary" onClick={logout} className="fr-mb-3w">
        {t('logout')}
      </Button>
      <MyData />
      <History personId={me.personId} />
      <Incidents />
      <MyNotices />
      <Receipts />
      <h2>{t('checkMessage')}</h2>
      <CallOut>
        {t('checkMessageText')} <a href="/verifier">{t('checkMessage')}</a>
      </CallOut>
    </>
  );
}

type Data = Awaited<ReturnType<typeof loadData>>;
const loadData = () => must(api.GET('/api/v1/portal/data'));

function MyData(): ReactNode {
  const t = useT(portalMessages);
  const label = usePortalLabels();
  const [data, setData] = useState<Data | null>(null);
  const shown = (v: unknown): string =>
    v === null || v === undefined
      ? '—'
      : typeof v === 'object'
        ? Object.values(v as object).join(', ')
        : String(v);
  return (
    <>
      <h2>{t('myData')}</h2>
      {data ? (
        <Table
          caption={t('myData')}
          noCaption
          headers={[t('field'), t('value')]}
          data={[
            ...Object.entries(data.identity).map(([k, v]) => [label.field(k), shown(v)]),
            [label.field('status'), label.status(data.status)],
            [label.field('agency'), data.agencyName],
          ]}
        />
      ) : (
        <Button priority="secondary" onClick={async () => setData(await loadData())}>
          {t('showData')}
        </Button>
      )}
    </>
  );
}

type HistoryAnswer = Awaited<ReturnType<typeof loadHistory>>;
const loadHistory = () => must(api.GET('/api/v1/portal/history'));

function History({ personId }: { personId: string }): ReactNode {
  const t = useT(portalMessages);
  const label = usePortalLabels();
  const when = useFormatDateTime();
  const [history, setHistory] = useState<HistoryAnswer | null>(null);
  const [checks, setChecks] = useState<Map<string, EntryCheck>>(new Map());
  useEffect(() => {
    void (async () => {
      const answer = await loadHistory();
      setHistory(answer);
      const checkpoint: VerifiedCheckpoint | null = answer.checkpoint
        ? await verifyCheckpoint(answer.checkpoint.note, answer.checkpoint.verifierKey)
        : null;
      const results = new Map<string, EntryCheck>();
      for (const entry of answer.entries)
        results.set(entry.eventId, await verifyEntry(entry, checkpoint, personId));
      setChecks(results);
    })();
  }, [personId]);
  const badge = (id: string): ReactNode => {
    const state = checks.get(id);
    if (state === 'verified')
      return (
        <Badge severity="success" small>
          {t('verified')}
        </Badge>
      );
    if (state === 'failed')
      return (
        <Badge severity="error" small>
          {t('failed')}
        </Badge>
      );
    if (state === 'pending')
      return (
        <Badge severity="info" small>
          {t('pending')}
        </Badge>
      );
    if (state === 'unprovable')
      return (
        <Badge severity="new" small>
          {t('unprovable')}
        </Badge>
      );
    return '…';
  };
  return (
    <>
      <h2>{t('history')}</h2>
      <p>{t('historyIntro')}</p>
      {history && (
        <>
          <Table
            caption={t('history')}
            noCaption
            headers={[t('date'), t('organisation'), t('role'), t('purpose'), t('fields'), t('proof')]}
            data={history.entries.map((e) => [
              when(e.at),
              e.organisationName ?? t('you'),
              e.staffName ? `${label.role(e.role)} (${e.staffName})` : e.role ? label.role(e.role) : t('you'),
              label.purpose(e.purpose),
              label.fields(e.fields),
              badge(e.eventId),
            ])}
          />
          {history.checkpoint && (
            <p className="fr-text--sm">{t('key', { key: history.checkpoint.verifierKey })}</p>
          )}
        </>
      )}
    </>
  );
}

function Incidents(): ReactNode {
  const t = useT(portalMessages);
  const label = usePortalLabels();
  const when = useFormatDateTime();
  const [incidents, setIncidents] = useState<{ id: string; detectedAt: string; fields: string[] }[] | null>(
    null,
  );
  useEffect(() => {
    void must(api.GET('/api/v1/portal/incidents')).then((a) => setIncidents(a.incidents));
  }, []);
  return (
    <>
      <h2>{t('incidents')}</h2>
      {incidents &&
        (incidents.length === 0 ? (
          <p>{t('noIncidents')}</p>
        ) : (
          <Table
            caption={t('incidents')}
            noCaption
            headers={[t('detected'), t('exposed')]}
            data={incidents.map((i) => [when(i.detectedAt), label.fields(i.fields)])}
          />
        ))}
    </>
  );
}

type Channel = 'email' | 'portal' | null;

function Receipts(): ReactNode {
  const t = useT(portalMessages);
  const label = usePortalLabels();
  const when = useFormatDateTime();
  const [channel, setChannel] = useState<Channel>(null);
  const [saved, setSaved] = useState(false);
  const [receipts, setReceipts] = useState<Awaited<ReturnType<typeof loadReceipts>>['receipts']>([]);
  const reload = useCallback(async () => setReceipts((await loadReceipts()).receipts), []);
  useEffect(() => {
    void must(api.GET('/api/v1/portal/receipts/settings')).then((s) => setChannel(s.channel as Channel));
    void reload();
  }, [reload]);
  const save = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    await must(api.POST('/api/v1/portal/receipts/settings', { body: { channel } }));
    setSaved(true);
  };
  const disown = async (id: string): Promise<void> => {
    await must(api.POST('/api/v1/portal/receipts/{id}/disown', { params: { path: { id } } }));
    await reload();
  };
  const option = (value: Channel, label: string) => ({
    label,
    nativeInputProps: {
      checked: channel === value,
      onChange: () => {
        setChannel(value);
        setSaved(false);
      },
    },
  });
  return (
    <>
      <h2>{t('receipts')}</h2>
      <form onSubmit={save}>
        <RadioButtons
          legend={t('receiptsIntro')}
          name="receipts"
          options={[
            option(null, t('receiptsOff')),
            option('email', t('receiptsEmail')),
            option('portal', t('receiptsPortal')),
          ]}
        />
        <Button type="submit">{t('save')}</Button>
      </form>
      {saved && <Alert severity="success" small description={t('saved')} className="fr-mt-2w" />}
      {receipts.length === 0 ? (
        <p className="fr-mt-2w">{t('noReceipts')}</p>
      ) : (
        <Table
          caption={t('receipts')}
          noCaption
          headers={[t('date'), t('organisation'), t('role'), t('purpose'), t('fields'), '']}
          data={receipts.map((r) => [
            when(r.at),
            r.organisationName ?? '—',
            label.role(r.role),
            label.purpose(r.purpose),
            label.fields(r.fields),
            r.disownedAt ? (
              <Badge key="r" severity="warning" small>
                {t('reported')}
              </Badge>
            ) : (
              <Button
                key="d"
                size="small"
                priority="secondary"
                title={t('disownTitle', { date: when(r.at) })}
                onClick={() => disown(r.id)}
              >
                {t('disown')}
              </Button>
            ),
          ])}
        />
      )}
    </>
  );
}
const loadReceipts = () => must(api.GET('/api/v1/portal/receipts'));
