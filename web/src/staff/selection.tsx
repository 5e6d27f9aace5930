/**
 * The person opened from a search, kept in memory only: the record screen's path (/dossier) names no
 * one, so an identifier never reaches the address bar, the history, a bookmark or a referrer, and a
 * reload forgets it (docs/SECURITY.md, the console).
 */
import { createContext, type ReactNode, useContext, useMemo, useState } from 'react';
import type { paths } from '../api/schema';

export type Purpose =
  paths['/api/v1/persons/search']['post']['requestBody']['content']['application/json']['purpose'];

export interface Selection {
  id: string;
  purpose: Purpose;
  /** A national read (outside the everyday scope) carries its justification to the record too. */
  justification?: string;
}

const SelectionContext = createContext<
  { selection: Selection | undefined; select(selection: Selection | undefined): void } | undefined
>(undefined);

/** Provides the selected person to the console. */
export function SelectionProvider({ children }: { children: ReactNode }): ReactNode {
  const [selection, select] = useState<Selection | undefined>();
  const value = useMemo(() => ({ selection, select }), [selection]);
  return <SelectionContext.Provider value={value}>{children}</SelectionContext.Provider>;
}

/** The selected person and the setter. */
export function useSelection(): {
  selection: Selection | undefined;
  select(selection: Selection | undefined): void;
} {
  const value = useContext(SelectionContext);
  if (!value) throw new Error('useSelection outside SelectionProvider');
  return value;
}
