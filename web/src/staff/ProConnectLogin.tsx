/**
 * The ProConnect button, shown when the server has ProConnect configured (the agents' identity
 * federation: docs/SECURITY.md). Filled in by the ProConnect routes; nothing shown otherwise.
 */
import type { ReactNode } from 'react';

/** The ProConnect entry of the login screen (none until the federation is configured). */
export function ProConnectLogin(): ReactNode {
  return null;
}
