/**
 * The console's two languages: French by default (a French public service), English on request.
 * Each screen family keeps its own messages (`defineMessages(fr, en)` next to its screens), so the
 * English catalogue cannot miss a key the French one has: the type says so at build time.
 * The choice is kept in localStorage under `rempart.lang`: a preference, never personal data.
 */
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';

export type Lang = 'fr' | 'en';
const STORAGE_KEY = 'rempart.lang';

/** A screen family's messages: French first, English with exactly the same keys. */
export interface Catalogue<K extends string> {
  fr: Record<K, string>;
  en: Record<K, string>;
}

/** Declares a catalogue; `en` must have every key of `fr`, and no other. */
export function defineMessages<K extends string>(fr: Record<K, string>, en: Record<K, string>): Catalogue<K> {
  return { fr, en };
}

/** Reads the stored language, French when none or unknown. */
export function storedLang(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'fr';
  } catch {
    return 'fr';
  }
}

interface LangState {
  lang: Lang;
  setLang(lang: Lang): void;
}

const LangContext = createContext<LangState | undefined>(undefined);

/** Fills `{name}` placeholders. */
export function fill(text: string, values?: Record<string, string | number>): string {
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    values[name] === undefined ? whole : String(values[name]),
  );
}

/** Provides the language to the console. */
export function LangProvider({ children }: { children: ReactNode }): ReactNode {
  const [lang, setLangState] = useState<Lang>(storedLang);
  const setLang = useCallback((next: Lang) => {
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // A browser that refuses storage keeps the choice for this page only.
    }
    document.documentElement.lang = next;
    setLangState(next);
  }, []);
  const value = useMemo<LangState>(() => ({ lang, setLang }), [lang, setLang]);
  return <LangContext.Provider value={value}>{children}</LangContext.Provider>;
}

/** The current language and its setter. */
export function useLang(): LangState {
  const value = useContext(LangContext);
  if (!value) throw new Error('useLang outside LangProvider');
  return value;
}

/** The translate function of a catalogue, in the current language. */
export function useT<K extends string>(
  catalogue: Catalogue<K>,
): (key: K, values?: Record<string, string | number>) => string {
  const { lang } = useLang();
  return useCallback((key, values) => fill(catalogue[lang][key], values), [catalogue, lang]);
}

/** Formats an instant for people: date and time in the current language, in the browser's zone. */
export function useFormatDateTime(): (iso: string | null | undefined) => string {
  const { lang } = useLang();
  return useCallback(
    (iso) => {
      if (!iso) return '—';
      const at = new Date(iso);
      return Number.isNaN(at.getTime())
        ? '—'
        : at.toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
    },
    [lang],
  );
}
