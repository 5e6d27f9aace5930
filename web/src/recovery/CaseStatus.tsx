/** A recovery case's status as a DSFR badge (helpdesk and manager screens). */
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import type { ReactNode } from 'react';
import { useT } from '../i18n/i18n.tsx';
import { recoveryMessages } from './messages.ts';

const SEVERITY = {
  open: 'info',
  approved: 'success',
  rejected: 'error',
  cancelled: 'warning',
  completed: 'new',
} as const;

/** The badge of `status` (open, approved, rejected, cancelled, completed). */
export function CaseStatus({ status }: { status: string }): ReactNode {
  const t = useT(recoveryMessages);
  const known = status in SEVERITY ? (status as keyof typeof SEVERITY) : undefined;
  if (!known) return status;
  return (
    <Badge severity={SEVERITY[known]} small noIcon>
      {t(`status_${known}`)}
    </Badge>
  );
}
