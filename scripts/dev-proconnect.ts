/**
 * A local stand-in for ProConnect, for development: the identity provider the tests use
 * (test/helpers/oidc-provider.ts), left running. Its login page asks for an identifier and the acr
 * to claim. Usage: `npm run dev:proconnect -- [PUBLIC_URL]` (default http://localhost:8080), then
 * start Rempart with the REMPART_PROCONNECT_* lines it prints.
 */
import { startOidcProvider } from '../test/helpers/oidc-provider.ts';

const publicUrl = new URL(process.argv[2] ?? 'http://localhost:8080').origin;
const idp = await startOidcProvider({
  redirectUri: `${publicUrl}/api/v1/auth/proconnect/callback`,
  port: 8090,
});
process.stdout.write(
  `Local ProConnect stand-in at ${idp.issuer} (Ctrl-C to stop). Start Rempart with:\n\n` +
    `${Object.entries(idp.env)
      .map(([name, value]) => `${name}=${value}`)
      .join(' \\\n')} \\\n  npm start\n\n` +
    'Link an account first (my account page, "Lier mon identité ProConnect"), then log in with the same identifier.\n',
);
const stop = (): void => {
  void idp.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
