/**
 * The portal's FranceConnect entry (web/src/portal/FranceConnectLogin.tsx), rendered to HTML with
 * React's server renderer: the official DSFR button links to the start route (a navigation, no
 * script), a result code from the address shows its message, and anything else in the address is
 * never written into the page. The login page that routes it belongs to the portal.
 */
import { createElement, type FunctionComponent, type ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

// The console's modules are JSX, type-checked by `tsc -p web` (the server's tsconfig has no JSX):
// loaded here by a path the server's type-check does not follow, typed by what the test uses.
const web = (file: string): Promise<unknown> => import(`../web/src/${file}`);
const { LangProvider } = (await web('i18n/i18n.tsx')) as {
  LangProvider: FunctionComponent<{ children?: ReactNode }>;
};
const { FranceConnectLogin } = (await web('portal/FranceConnectLogin.tsx')) as {
  FranceConnectLogin: FunctionComponent<{ enabled: boolean | undefined; result?: string | null }>;
};
const { franceconnectMessages } = (await web('portal/franceconnect-messages.ts')) as {
  franceconnectMessages: { fr: Record<string, string> };
};

const render = (props: { enabled: boolean | undefined; result?: string | null }): string =>
  renderToStaticMarkup(createElement(LangProvider, null, createElement(FranceConnectLogin, props)));

describe('the FranceConnect button of the portal', () => {
  it('shows nothing while the server has FranceConnect off or is being asked', () => {
    expect(render({ enabled: false })).toBe('');
    expect(render({ enabled: undefined })).toBe('');
  });

  it('is the official button, a link to the start route', () => {
    const html = render({ enabled: true });
    expect(html).toContain('class="fr-btn fr-connect"');
    expect(html).toContain('href="/api/v1/portal/franceconnect/login"');
    expect(html).toContain('S’identifier avec');
    expect(html).toContain('FranceConnect');
    expect(html).not.toContain('fr-alert');
  });

  it.each(['refused', 'level_refused', 'cancelled', 'failed', 'unavailable'] as const)(
    'explains the result %s',
    (result) => {
      const html = render({ enabled: true, result });
      expect(html).toContain('fr-alert');
      expect(html).toContain(franceconnectMessages.fr[`result_${result}`]!.replace(/'/g, '&#x27;'));
    },
  );

  it('never writes an unknown result from the address into the page', () => {
    const html = render({ enabled: true, result: '<img src=x onerror=alert(1)>' });
    expect(html).not.toContain('fr-alert');
    expect(html).not.toContain('onerror');
  });
});
