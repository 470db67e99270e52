/**
 * Google's OAuth token endpoint, JWT-bearer grant only: the assertion must be signed by the
 * simulator's service-account key (see ../oauth.ts). Answers like Google: 200 with
 * { access_token, expires_in, token_type } or 400 { error: "invalid_grant", error_description }.
 */
import { Hono } from 'hono';

import { JWT_BEARER_GRANT, verifyAssertion } from '../oauth';
import { type SimEnv, type SimulatorState } from '../state';

export function oauthRoutes(state: SimulatorState) {
  const app = new Hono<SimEnv>();
  app.post('/token', (c) => {
    const form = new URLSearchParams(c.get('rawBody'));
    if (form.get('grant_type') !== JWT_BEARER_GRANT)
      return c.json({ error: 'unsupported_grant_type', error_description: `only ${JWT_BEARER_GRANT}` }, 400);
    const assertion = form.get('assertion');
    if (!assertion) return c.json({ error: 'invalid_request', error_description: 'assertion is required' }, 400);
    // The audience is this endpoint, whichever name the client reached it by.
    const audiences = [`${state.publicUrl()}/token`, `${new URL(c.req.url).origin}/token`];
    const check = verifyAssertion(assertion, state.account, audiences);
    if (!check.ok) return c.json({ error: 'invalid_grant', error_description: check.reason }, 400);
    return c.json(state.tokens.issue(check.claims.scope.split(/\s+/).filter(Boolean), state.settings.tokenLifetimeS));
  });
  return app;
}
