/**
 * "Mes notifications" (docs/PORTAL.md; GDPR art. 34; issue 12 item 5): the notices of the incidents
 * that concern the person, whatever channel they went by. Each is fetched as its exact signed text
 * and its Ed25519 signature checked in the browser (WebCrypto: verify.ts), under the notice keys the
 * server publishes (GET /api/v1/notices/keys), shown on the page so they can be compared with the
 * ones published elsewhere; the text downloads as a file to keep (the evidence victims of earlier
 * breaches were told to screenshot).
 */
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useEffect, useState } from 'react';
import { api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { usePortalLabels } from './labels.ts';
import { portalMessages } from './messages.ts';
import { openSignedNote } from './verify.ts';

type Notice = Awaited<ReturnType<typeof loadNotices>>['notices'][number];
const loadNotices = () => must(api.GET('/api/v1/portal/notices'));

/** The signed text of one notice, as served (never parsed as JSON). */
async function signedText(id: string): Promise<string> {
  const { data, response } = await api.GET('/api/v1/portal/notices/{id}', {
    params: { path: { id } },
    parseAs: 'text',
  });
  if (!response.ok || typeof data !== 'string') throw new Error(`notice ${response.status}`);
  return data;
}

/** Offers `text` as a file download (a Blob: nothing of it goes into the address). */
function download(id: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `avis-${id}.txt`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The section. */
export function MyNotices(): ReactNode {
  const t = useT(portalMessages);
  const label = usePortalLabels();
  const when = useFormatDateTime();
  const [notices, setNotices] = useState<Notice[] | null>(null);
  const [keys, setKeys] = useState<string[]>([]);
  const [texts, setTexts] = useState<Map<string, string>>(new Map());
  const [checks, setChecks] = useState<Map<string, 'verified' | 'failed'>>(new Map());
  useEffect(() => {
    void (async () => {
      const [list, published] = await Promise.all([
        loadNotices(),
        must(api.GET('/api/v1/notices/keys')).catch(() => ({ keys: [] })),
      ]);
      const verifierKeys = published.keys.map((k) => k.key);
      setNotices(list.notices);
      setKeys(verifierKeys);
      const fetched = new Map<string, string>();
      const results = new Map<string, 'verified' | 'failed'>();
      for (const notice of list.notices) {
        try {
          const text = await signedText(notice.id);
          fetched.set(notice.id, text);
          results.set(notice.id, (await openSignedNote(text, verifierKeys)) ? 'verified' : 'failed');
        } catch {
          results.set(notice.id, 'failed');
        }
      }
      setTexts(fetched);
      setChecks(results);
    })();
  }, []);
  const badge = (id: string): ReactNode => {
    const state = checks.get(id);
    if (state === 'verified')
      return (
        <Badge severity="success" small>
          {t('signatureVerified')}
        </Badge>
      );
    if (state === 'failed')
      return (
        <Badge severity="error" small>
          {t('signatureFailed')}
        </Badge>
      );
    return '…';
  };
  return (
    <>
      <h2>{t('notices')}</h2>
      <p>{t('noticesIntro')}</p>
      {notices &&
        (notices.length === 0 ? (
          <p>{t('noNotices')}</p>
        ) : (
          <>
            <Table
              caption={t('notices')}
              noCaption
              headers={[t('date'), t('channel'), t('exposed'), t('signature'), '']}
              data={notices.map((n) => [
                when(n.sentAt ?? n.createdAt),
                t(`channel_${n.channel}`),
                label.fields(n.fields),
                badge(n.id),
                <Button
                  key="d"
                  size="small"
                  priority="secondary"
                  disabled={!texts.has(n.id)}
                  title={t('downloadTitle', { date: when(n.sentAt ?? n.createdAt) })}
                  onClick={() => download(n.id, texts.get(n.id)!)}
                >
                  {t('download')}
                </Button>,
              ])}
            />
            <p className="fr-text--sm">
              {keys.length === 0 ? t('noNoticeKeys') : t('noticeKeys', { keys: keys.join(' ; ') })}
            </p>
          </>
        ))}
    </>
  );
}
