/** The console's entry: the design system first (startReactDsfr), then the app. */
import { startReactDsfr } from '@codegouvfr/react-dsfr/spa';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Link } from 'react-router';
import { App } from './App.tsx';
import { storedLang, useLang } from './i18n/i18n.tsx';

declare module '@codegouvfr/react-dsfr/spa' {
  interface RegisterLink {
    Link: typeof Link;
  }
}

document.documentElement.lang = storedLang();
// Trusted Types: the server's Content-Security-Policy names the policies react-dsfr creates
// (react-dsfr, react-dsfr-asap) and requires them for every script sink.
// The design system's own words ("Afficher", "Fermer"...) follow the console's language switch.
startReactDsfr({ defaultColorScheme: 'system', Link, useLang: () => useLang().lang });

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
