// Test OpenID Provider for the interop suite: panva's oidc-provider (OpenID Certified), version
// pinned in package-lock.json, configured for one confidential client (the quickstart).
//
// Usage: node provider.mjs [--port N] [--strict-claims] [--client-id ID] [--client-secret S]
//          [--redirect-uris URI,...] [--post-logout-redirect-uris URI,...]
//          [--backchannel-logout-uri URI]
//   (or the environment variables below; arguments win)
//
//   OIDC_PROVIDER_PORT                   port on 127.0.0.1; 0 (the default) picks a free one
//   OIDC_PROVIDER_CLIENT_ID              default "rocket-quickstart"
//   OIDC_PROVIDER_CLIENT_SECRET          default "quickstart-secret"
//   OIDC_PROVIDER_REDIRECT_URIS          comma-separated, default http://localhost:8000/authorization-code/callback
//   OIDC_PROVIDER_POST_LOGOUT_REDIRECT_URIS  comma-separated, default http://localhost:8000/
//   OIDC_PROVIDER_BACKCHANNEL_LOGOUT_URI the client's backchannel_logout_uri (Back-Channel Logout 1.0),
//                                        registered with backchannel_logout_session_required: true;
//                                        unset: the client gets no logout tokens
//   OIDC_PROVIDER_STRICT_CLAIMS=1        profile claims only from userinfo (see `conformIdTokenClaims`)
//   OIDC_PROVIDER_JWKS_FILE              keep the signing key in this file across restarts; without it
//                                        every start generates a NEW key (the key-rotation scenario)
//   OIDC_PROVIDER_ACCESS_TOKEN_TTL       access-token lifetime in seconds, default 3600
//   OIDC_PROVIDER_ROTATE_REFRESH_TOKEN=1 `rotateRefreshToken: true`: every refresh consumes the refresh
//                                        token, and presenting a consumed one revokes the whole grant
//
// The first line on stdout is machine-readable: `LISTENING http://127.0.0.1:PORT`; the second is
// `KID <kid of the signing key>`. After that, one `EVENT <name> ...` line per protocol event the suite
// may want to see (tokens issued, tokens destroyed by revocation, logout), and errors on stderr.
//
// Options are those of oidc-provider 9.x: docs/README.md "Configuration options" and
// lib/helpers/defaults.js of panva/node-oidc-provider; each is cited where it is set.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'strict-claims': { type: 'boolean' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uris': { type: 'string' },
    'post-logout-redirect-uris': { type: 'string' },
    'backchannel-logout-uri': { type: 'string' },
  },
});

const env = process.env;
const port = Number(args.port ?? env.OIDC_PROVIDER_PORT ?? 0);
const strictClaims = args['strict-claims'] || env.OIDC_PROVIDER_STRICT_CLAIMS === '1';
const accessTokenTtl = Number(env.OIDC_PROVIDER_ACCESS_TOKEN_TTL ?? 3600);
const rotateRefreshToken = env.OIDC_PROVIDER_ROTATE_REFRESH_TOKEN === '1';
const list = (value, fallback) => (value ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const client = {
  client_id: args['client-id'] ?? env.OIDC_PROVIDER_CLIENT_ID ?? 'rocket-quickstart',
  client_secret: args['client-secret'] ?? env.OIDC_PROVIDER_CLIENT_SECRET ?? 'quickstart-secret',
  redirect_uris: list(
    args['redirect-uris'] ?? env.OIDC_PROVIDER_REDIRECT_URIS,
    'http://localhost:8000/authorization-code/callback',
  ),
  post_logout_redirect_uris: list(
    args['post-logout-redirect-uris'] ?? env.OIDC_PROVIDER_POST_LOGOUT_REDIRECT_URIS,
    'http://localhost:8000/',
  ),
  response_types: ['code'],
  // refresh_token must be an allowed grant, or offline_access is dropped from the request
  // (lib/actions/authorization/scopes.js) and no refresh token is issued.
  grant_types: ['authorization_code', 'refresh_token'],
  // What the quickstart (openidconnect's default AuthType::BasicAuth) sends.
  token_endpoint_auth_method: 'client_secret_basic',
};
const backchannelLogoutUri = args['backchannel-logout-uri'] ?? env.OIDC_PROVIDER_BACKCHANNEL_LOGOUT_URI;
if (backchannelLogoutUri) {
  // Client metadata of Back-Channel Logout 1.0 §2.2. Without session_required the provider puts
  // no `sid` in ID tokens or logout tokens (Client#includeSid in lib/models/client.js).
  client.backchannel_logout_uri = backchannelLogoutUri;
  client.backchannel_logout_session_required = true;
}

/** A fresh RSA signing key, or the one kept in OIDC_PROVIDER_JWKS_FILE. */
function signingKey() {
  const file = env.OIDC_PROVIDER_JWKS_FILE;
  if (file && existsSync(file)) {
    return JSON.parse(readFileSync(file, 'utf8'));
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: `interop-${randomBytes(6).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };
  if (file) {
    writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  }
  return jwk;
}

/**
 * Any login works (devInteractions, below). The login "ada" becomes "Ada Lovelace" with
 * ada@example.test, so a test can assert the name it typed. With the `groups` scope, "ada" is in
 * the groups `admins` and `engineering`, everybody else in `engineering` only (the quickstart's
 * /admin page is for `admins`).
 * docs/README.md "Accounts" and "findAccount".
 */
async function findAccount(_ctx, sub) {
  const given = sub.charAt(0).toUpperCase() + sub.slice(1);
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: `${given} Lovelace`,
        given_name: given,
        family_name: 'Lovelace',
        preferred_username: sub,
        email: `${sub}@example.test`,
        email_verified: true,
        groups: sub === 'ada' ? ['admins', 'engineering'] : ['engineering'],
      };
    },
  };
}

const key = signingKey();

const configuration = {
  clients: [client],
  findAccount,
  // "claims": which scope releases which claims. Scopes named here are added to `scopes_supported`.
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
    // Not a standard scope: a custom one, as Okta's `groups` (and the development issuer's).
    groups: ['groups'],
  },
  jwks: { keys: [key] },
  // "conformIdTokenClaims" (default true): with response_type=code the ID Token carries only the
  // claims asked for through the `claims` parameter; scope-requested profile claims come only from
  // userinfo. Turned off, the ID Token carries them as well: the app must work either way.
  conformIdTokenClaims: strictClaims,
  // "pkce.required": the default (defaults.js `pkceRequired`) asks PKCE only of public clients and
  // FAPI; we require it of our confidential client too, so a login without S256 fails loudly.
  pkce: { required: () => true },
  // "issueRefreshToken": the default (defaults.js) issues one when the client may use refresh_token
  // and offline_access was granted; we say so for the code grant explicitly. The request keeps
  // offline_access only with prompt=consent (OIDC Core §11; lib/actions/authorization/scopes.js).
  async issueRefreshToken(ctx, client_, code) {
    return ['authorization_code', 'refresh_token'].includes(ctx.oidc.params.grant_type)
      && client_.grantTypeAllowed('refresh_token')
      && code.scopes.has('offline_access');
  },
  // "rotateRefreshToken": the default (defaults.js) rotates only for public clients and old tokens;
  // `true` rotates on every refresh, and lib/actions/grants/refresh_token.js answers a consumed
  // token with invalid_grant *and revokes the grant* (emitting `grant.revoked`).
  ...(rotateRefreshToken ? { rotateRefreshToken: true } : {}),
  // "ttl": the defaults' values, set as numbers to silence a NOTICE per artifact kind; the access
  // token's may be shortened to drive refreshes.
  ttl: {
    AccessToken: accessTokenTtl,
    IdToken: 3600,
    Interaction: 3600,
    Grant: 14 * 24 * 3600,
    RefreshToken: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
  },
  // "fetch": how the provider makes its own outgoing requests (here: the back-channel logout POST).
  // 9.x passes every outgoing request an undici dispatcher that destroys sockets to special-use
  // addresses, 127.0.0.0/8 included (SSRF protection, lib/helpers/fetch_request.js), so a POST to
  // the app on loopback fails with "fetch failed". This provider only ever talks to the app under
  // test on 127.0.0.1, so drop that dispatcher; a production provider must keep it.
  fetch: (url, options) => {
    const { dispatcher: _ssrfGuard, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  // Signed cookies for the provider's own session; fresh per start like everything in memory.
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    // "features.devInteractions": built-in login (any login/password) and consent pages.
    devInteractions: { enabled: true },
    // "features.revocation" (RFC 7009): off by default.
    revocation: { enabled: true },
    // "features.backchannelLogout" (Back-Channel Logout 1.0): off by default. On, discovery
    // advertises backchannel_logout_supported (so the app mounts its endpoint), and confirming
    // /session/end POSTs a logout token to every client of the session that registered a
    // backchannel_logout_uri, before answering (lib/actions/end_session.js `confirm`).
    backchannelLogout: { enabled: true },
    // "features.rpInitiatedLogout" (RP-Initiated Logout 1.0): on by default; said here because the
    // suite depends on its confirmation page.
    rpInitiatedLogout: { enabled: true },
    userinfo: { enabled: true },
  },
};

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  const issuer = `http://127.0.0.1:${actual}`;
  const provider = new Provider(issuer, configuration);

  // The built-in pages (devInteractions, logout confirmation, errors) `@import` a Google web font.
  // The test machine has no route to the internet and the browser must not wait on it, so strip the
  // import from every HTML page. A post-middleware, docs/README.md "Pre- and post-middlewares".
  provider.use(async (ctx, next) => {
    await next();
    if (typeof ctx.body === 'string' && ctx.response.is('html')) {
      ctx.body = ctx.body.replace(/@import url\([^)]*\);?/g, '');
    }
  });

  const event = (name, detail = '') => console.log(`EVENT ${name}${detail ? ` ${detail}` : ''}`);
  provider.on('grant.success', (ctx) => {
    const body = ctx.body ?? {};
    event('grant.success', `grant_type=${ctx.oidc.params.grant_type} refresh_token=${body.refresh_token ? 'yes' : 'no'}`);
  });
  // 9.x has no revocation event: revoking destroys the token (lib/models/base_model.js emits
  // `<kind>.destroyed`).
  provider.on('access_token.destroyed', () => event('access_token.destroyed'));
  provider.on('refresh_token.destroyed', () => event('refresh_token.destroyed'));
  provider.on('end_session.success', () => event('end_session.success'));
  // lib/helpers/revoke.js: a grant revoked, e.g. by refresh-token reuse detection.
  provider.on('grant.revoked', () => event('grant.revoked'));
  provider.on('backchannel.success', (_ctx, client_, accountId, sid) => {
    event('backchannel.success', `client=${client_.clientId} sub=${accountId} sid=${sid ? 'yes' : 'no'}`);
  });
  provider.on('backchannel.error', (_ctx, err, client_) => {
    console.error(`backchannel.error: client=${client_.clientId}: ${err?.message ?? err}`);
    event('backchannel.error', `client=${client_.clientId}`);
  });
  for (const name of ['server_error', 'grant.error', 'authorization.error', 'end_session.error',
    'userinfo.error', 'revocation.error', 'jwks.error', 'discovery.error']) {
    provider.on(name, (ctx, err) => {
      console.error(`${name}: ${err?.message ?? err}${err?.error_description ? ` (${err.error_description})` : ''}`);
    });
  }

  server.on('request', provider.callback());
  console.log(`LISTENING ${issuer}`);
  console.log(`KID ${key.kid}`);
});

// Everything lives in memory: nothing to flush, so stop at once (keep-alive sockets included).
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
