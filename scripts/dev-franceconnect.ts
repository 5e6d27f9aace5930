/**
 * A local stand-in for FranceConnect v2, for development: the identity provider the tests use
 * (test/helpers/oidc-provider.ts, ES256, acr eidas1 by default), left running. Its login page asks
 * for an identifier, which here is the pivot identity to send, written
 * `BIRTH NAME|Given names|YYYY-MM-DD|male or female|birthplace code|birth country code`
 * (e.g. `DUPONT|Marie Louise|1985-04-12|female|69123|99100`; an empty birthplace for a birth
 * abroad), and the acr to claim. Usage: `npm run dev:franceconnect -- [PUBLIC_URL]` (default
 * http://localhost:8080), then start Rempart with the REMPART_FRANCECONNECT_* lines it prints.
 */
import { startOidcProvider } from '../test/helpers/oidc-provider.ts';

const publicUrl = new URL(process.argv[2] ?? 'http://localhost:8080').origin;
const claim = (name: string) => ({ [name]: [name] });
const idp = await startOidcProvider({
  redirectUri: `${publicUrl}/api/v1/portal/franceconnect/callback`,
  port: 8091,
  signingAlg: 'ES256',
  acr: 'eidas1',
  acrLevels: ['eidas0', 'eidas1', 'eidas2', 'eidas3'],
  claims: {
    scopes: Object.assign(
      {},
      ...['given_name', 'family_name', 'birthdate', 'birthplace', 'birthcountry', 'gender'].map(claim),
    ),
    of: (sub) => {
      const [family_name, given_name, birthdate, gender, birthplace, birthcountry] = sub.split('|');
      return { family_name, given_name, birthdate, gender, birthplace, birthcountry };
    },
  },
});
process.stdout.write(
  `Local FranceConnect stand-in at ${idp.issuer} (Ctrl-C to stop). Start Rempart with:\n\n` +
    `${Object.entries(idp.franceconnectEnv)
      .map(([name, value]) => `${name}=${value}`)
      .join(' \\\n')} \\\n  npm start\n\n` +
    'At its login page, give the identity as BIRTH NAME|Given names|YYYY-MM-DD|male|birthplace|country,\n' +
    'e.g. DUPONT|Marie Louise|1985-04-12|female|69123|99100.\n',
);
const stop = (): void => {
  void idp.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
