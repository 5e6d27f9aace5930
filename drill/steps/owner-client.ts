/**
 * An honest owner's session for the scenarios that need the work of several people around the
 * attack (T3, T4): signed in from the owner's workstation with password and authenticator app; a
 * request answered 401 signs in again, a step-up asked is given, then the request is retried.
 */
import type { DrillClient, Exchange, Method } from '../client.ts';
import type { World } from '../scenario.ts';

/** One request of a scenario. */
export interface Attempt {
  method: Method;
  path: string;
  route: string;
  body?: unknown;
}

/** An honest owner's session. */
export interface OwnerClient {
  send(a: Attempt): Promise<Exchange>;
}

/** Signs the cast member `name` in on a new client from their workstation. */
export async function ownerClient(world: World, name: string): Promise<OwnerClient> {
  const member = world.staff(name);
  const client: DrillClient = world.client(`${name} (owner)`);
  await world.signIn(client, member);
  return {
    async send(a) {
      let call = await client.request(a.method, a.path, a.body, { route: a.route });
      if (call.status === 401) {
        await world.signIn(client, member);
        call = await client.request(a.method, a.path, a.body, { route: a.route });
      }
      if (call.code === 'step_up_required') {
        await client.post('/api/v1/auth/totp', { code: await world.totpCode(member) });
        call = await client.request(a.method, a.path, a.body, { route: a.route });
      }
      return call;
    },
  };
}
