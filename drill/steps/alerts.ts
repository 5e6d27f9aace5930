/**
 * What the guard said about an account, as the security officers see it in the review queue
 * (GET /api/v1/guard/alerts): the drill reads it after an attack to name the signals that asked for
 * a step-up, throttled or suspended — the attacker itself only sees the answers.
 */
import type { StaffMember, World } from '../scenario.ts';

/** A signal as an alert names it. */
export interface AlertSignal {
  name: string;
  value: number;
  limit: number;
  response: string;
}

/** One alert of the review queue. */
export interface GuardAlert {
  raisedAt: string;
  response: string;
  signals: AlertSignal[];
}

/** The security officer every drill has (drill/world.ts, WATCHER). */
const OFFICER = 'security';

/** The guard's alerts on an account, oldest first; empty if the queue cannot be read. */
export async function guardAlerts(world: World, member: StaffMember): Promise<GuardAlert[]> {
  const client = world.client(`security officer (alerts on ${member.name})`);
  try {
    await world.signIn(client, world.staff(OFFICER));
    const answer = await client.get('/api/v1/guard/alerts?status=all');
    const alerts =
      (answer.body as { alerts?: (GuardAlert & { login?: string; accountId?: string })[] } | undefined)
        ?.alerts ?? [];
    return alerts
      .filter((a) => a.accountId === member.id || a.login?.toLowerCase() === member.login.toLowerCase())
      .sort((a, b) => a.raisedAt.localeCompare(b.raisedAt));
  } catch {
    return [];
  } finally {
    await client.post('/api/v1/auth/logout', {}).catch(() => undefined);
  }
}

/** `step_up (beyond_baseline 26/25), suspend (blocked_per_hour 20/20)`: alerts in a line. */
export function describeAlerts(alerts: readonly GuardAlert[], most = 8): string {
  if (alerts.length === 0) return 'none';
  const line = (a: GuardAlert): string =>
    `${a.response} (${a.signals.map((s) => `${s.name} ${s.value}/${s.limit}`).join(', ') || 'pending response'})`;
  const shown = alerts.slice(0, most).map(line);
  if (alerts.length > most) shown.push(`… ${alerts.length - most} more, last: ${line(alerts.at(-1)!)}`);
  return shown.join('; ');
}

/** The signals of the alert that suspended the account, if any. */
export function suspendingSignals(alerts: readonly GuardAlert[]): string[] {
  const suspension = alerts.find((a) => a.response === 'suspend');
  return suspension ? suspension.signals.filter((s) => s.response === 'suspend').map((s) => s.name) : [];
}
