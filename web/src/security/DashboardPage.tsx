/**
 * The security officers' live dashboard (docs/GUARD.md "Dashboard"): reads per minute by
 * organisation and role (GET /api/v1/guard/activity), the accounts furthest above their usual day
 * (GET /api/v1/guard/baselines), open alerts and suspensions (GET /api/v1/guard/suspended), and the
 * audit sequencer's lag (GET /api/health). Polled every few seconds, without reloading the page.
 */
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { CallOut } from '@codegouvfr/react-dsfr/CallOut';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, must } from '../api/client.ts';
import { useFormatDateTime, useLang, useT } from '../i18n/i18n.tsx';
import { staffMessages } from '../staff/messages.ts';
import { type ChartSeries, TimeChart } from './Chart.tsx';
import { securityMessages } from './messages.ts';

/** Seconds between two refreshes. */
export const REFRESH_SECONDS = 5;
/** Lines drawn on the chart; the rest are summed as "others". */
const CHART_LINES = 7;

const loadActivity = (hours: number) =>
  must(api.GET('/api/v1/guard/activity', { params: { query: { hours: String(hours) } } }));
const loadBaselines = () => must(api.GET('/api/v1/guard/baselines', { params: { query: { limit: '10' } } }));
const loadSuspended = () => must(api.GET('/api/v1/guard/suspended'));
const loadHealth = () => must(api.GET('/api/health'));

interface Snapshot {
  activity: Awaited<ReturnType<typeof loadActivity>>;
  baselines: Awaited<ReturnType<typeof loadBaselines>>['accounts'];
  suspended: Awaited<ReturnType<typeof loadSuspended>>['accounts'];
  health: Awaited<ReturnType<typeof loadHealth>>;
  at: Date;
}

/** A number of seconds as people read it: s, min, h or days. */
function duration(seconds: number, lang: 'fr' | 'en'): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} ${lang === 'fr' ? 'j' : 'd'}`;
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** The dashboard screen. */
export function DashboardPage(): ReactNode {
  const t = useT(securityMessages);
  const ts = useT(staffMessages);
  const when = useFormatDateTime();
  const { lang } = useLang();
  const navigate = useNavigate();
  const [hours, setHours] = useState(3);
  const [snapshot, setSnapshot] = useState<Snapshot | undefined>();
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    document.title = `${t('dashboardTitle')} — Rempart`;
  }, [t]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = async () => {
      try {
        const [activity, baselines, suspended, health] = await Promise.all([
          loadActivity(hours),
          loadBaselines(),
          loadSuspended(),
          loadHealth(),
        ]);
        if (stopped) return;
        setSnapshot({
          activity,
          baselines: baselines.accounts,
          suspended: suspended.accounts,
          health,
          at: new Date(),
        });
        setFailed(false);
      } catch {
        if (!stopped) setFailed(true);
      }
      if (!stopped) timer = setTimeout(() => void refresh(), REFRESH_SECONDS * 1000);
    };
    void refresh();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [hours]);

  const role = useCallback(
    (name: string): string => {
      const key = `role_${name}` as Parameters<typeof ts>[0];
      return name && key in staffMessages.fr ? ts(key) : name || '—';
    },
    [ts],
  );

  const chart = useMemo(() => {
    if (!snapshot) return undefined;
    const { activity } = snapshot;
    const start = Date.parse(activity.from) / 1000;
    const length =
      activity.series[0]?.reads.length ?? Math.round((Date.parse(activity.to) / 1000 - start) / 60);
    const x = Array.from({ length }, (_, i) => start + i * activity.bucketSeconds);
    const ranked = [...activity.series].sort((a, b) => sum(b.reads) - sum(a.reads));
    const lines: ChartSeries[] = ranked.slice(0, CHART_LINES).map((s) => ({
      label: `${s.organisationCode} · ${role(s.role)}`,
      values: s.reads,
    }));
    const rest = ranked.slice(CHART_LINES);
    if (rest.length > 0) {
      lines.push({
        label: t('others'),
        values: x.map((_, i) => sum(rest.map((s) => s.reads[i] ?? 0))),
      });
    }
    return { x, lines, ranked };
  }, [snapshot, t, role]);

  const audit = snapshot?.health.audit;
  const late = snapshot?.health.status === 'degraded';
  const time = (at: Date) =>
    at.toLocaleTimeString(lang === 'fr' ? 'fr-FR' : 'en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });

  return (
    <>
      <h1>{t('dashboardTitle')}</h1>
      <p>{t('dashboardIntro', { seconds: REFRESH_SECONDS })}</p>
      <div className="fr-grid-row fr-grid-row--gutters fr-grid-row--middle">
        <div className="fr-col-12 fr-col-md-4">
          <Select
            label={t('hours')}
            nativeSelectProps={{ value: String(hours), onChange: (e) => setHours(Number(e.target.value)) }}
          >
            {[1, 3, 6, 12, 24].map((n) => (
              <option key={n} value={n}>
                {n === 1 ? t('hourOption') : t('hoursOption', { n })}
              </option>
            ))}
          </Select>
        </div>
        <div className="fr-col-12 fr-col-md-8">
          <p className="fr-text--sm fr-mb-0" aria-live="polite">
            {snapshot && t('updatedAt', { time: time(snapshot.at) })}
            {failed && ` ${t('refreshFailed')}`}
          </p>
        </div>
      </div>

      {snapshot && (
        <div className="fr-grid-row fr-grid-row--gutters">
          <div className="fr-col-12 fr-col-md-4">
            <CallOut title={t('openAlerts')} titleAs="h2" colorVariant="orange-terre-battue">
              <span className="fr-h3 fr-mb-0" data-testid="open-alerts">
                {snapshot.activity.openAlerts.suspend +
                  snapshot.activity.openAlerts.step_up +
                  snapshot.activity.openAlerts.throttle}
              </span>
              <br />
              {t('openAlertsDetail', snapshot.activity.openAlerts)}
            </CallOut>
          </div>
          <div className="fr-col-12 fr-col-md-4">
            <CallOut title={t('suspendedAccounts')} titleAs="h2" colorVariant="pink-tuile">
              <span className="fr-h3 fr-mb-0" data-testid="suspended-accounts">
                {snapshot.activity.suspendedAccounts}
              </span>
            </CallOut>
          </div>
          <div className="fr-col-12 fr-col-md-4">
            <CallOut title={t('sequencer')} titleAs="h2" colorVariant="blue-ecume">
              <Badge severity={late ? 'error' : 'success'} small>
                {late ? t('sequencerLate') : t('sequencerOk')}
              </Badge>
              <br />
              {audit &&
                t('sequencerDetail', {
                  pending: audit.pendingEvents,
                  seconds: duration(audit.oldestPendingSeconds, lang),
                  alert: audit.lagAlertSeconds,
                })}
            </CallOut>
          </div>
        </div>
      )}

      <h2 className="fr-mt-4w">{t('readsChart')}</h2>
      {chart && (
        <>
          <TimeChart
            caption={t('readsChart')}
            summary={t('readsChartSummary')}
            x={chart.x}
            series={chart.lines}
          />
          {chart.ranked.length === 0 ? (
            <p>{t('noReads')}</p>
          ) : (
            <Table
              caption={t('readsTable')}
              headers={[t('organisation'), t('role'), t('reads'), t('refused'), t('lastMinutes'), t('peak')]}
              data={chart.ranked.map((s) => [
                s.organisationCode,
                role(s.role),
                String(sum(s.reads)),
                String(sum(s.refused)),
                String(sum(s.reads.slice(-5))),
                String(Math.max(0, ...s.reads)),
              ])}
            />
          )}
        </>
      )}

      <h2 className="fr-mt-4w">{t('baselinesTitle')}</h2>
      {snapshot &&
        (snapshot.baselines.length === 0 ? (
          <p>{t('noBaselines')}</p>
        ) : (
          <Table
            caption={t('baselinesCaption')}
            headers={[
              t('account'),
              t('organisation'),
              t('role'),
              t('personsToday'),
              t('expected'),
              t('beyond'),
              t('status'),
            ]}
            data={snapshot.baselines.map((b) => [
              b.login,
              b.organisationCode,
              role(b.role),
              String(b.personsToday),
              `${b.expected} (${t(`expectedFrom_${b.expectedFrom}`)})`,
              String(b.beyond),
              <AccountStatus key="status" status={b.accountStatus} />,
            ])}
          />
        ))}

      <h2 className="fr-mt-4w">{t('suspendedTitle')}</h2>
      {snapshot &&
        (snapshot.suspended.length === 0 ? (
          <p>{t('noSuspended')}</p>
        ) : (
          <Table
            caption={t('suspendedCaption')}
            headers={[t('account'), t('organisation'), t('role'), t('suspendedAt'), t('openAlerts'), '']}
            data={snapshot.suspended.map((s) => [
              s.login,
              s.organisationCode,
              role(s.role),
              when(s.suspendedAt),
              String(s.openAlerts),
              s.latestAlertId ? (
                <Button
                  key="review"
                  size="small"
                  priority="secondary"
                  title={t('examineAlert', { login: s.login })}
                  onClick={() => navigate('/securite/revue', { state: { alertId: s.latestAlertId } })}
                >
                  {t('examine')}
                </Button>
              ) : (
                ''
              ),
            ])}
          />
        ))}
      <Button
        priority="secondary"
        iconId="fr-icon-arrow-right-line"
        onClick={() => navigate('/securite/revue')}
      >
        {t('toReview')}
      </Button>
    </>
  );
}

/** An account's status as a badge: suspended in red, probation in blue, active in green. */
export function AccountStatus({ status }: { status: string }): ReactNode {
  const t = useT(securityMessages);
  const key = `status_${status}` as Parameters<typeof t>[0];
  const label = key in securityMessages.fr ? t(key) : status;
  const severity = status === 'suspended' ? 'error' : status === 'active' ? 'success' : 'info';
  return (
    <Badge severity={severity} small>
      {label}
    </Badge>
  );
}
