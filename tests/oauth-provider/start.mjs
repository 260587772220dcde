// Loopback OpenID Connect / OAuth2 mock provider for login tests.
//
//   PORT=0 node start.mjs          (or: node start.mjs 0)
//
// Listens on 127.0.0.1 (override with HOST) and the port from env PORT or argv[2]
// (0 = let the OS pick), then prints exactly one line on stdout:
//
//   READY http://127.0.0.1:PORT
//
// which is also the issuer URL. Exits with code 0 on SIGTERM / SIGINT.
//
// Behaviour (oauth2-mock-server 8.2.3 plus the hooks below):
// - GET /authorize has no login UI: it answers 302 straight to redirect_uri?code=...&state=...
// - PKCE (S256 or plain) is checked by the library when the token request carries a
//   code_verifier; the hooks below also refuse a token request that leaves the verifier out
//   when /authorize got a code_challenge.
// - The nonce given to /authorize is copied into the ID token.
// - Codes are single use, must come from /authorize, and must be redeemed with the same
//   redirect_uri and client_id (the hooks enforce this; the library alone accepts any code).
// - If MOCK_CLIENT_ID and MOCK_CLIENT_SECRET are set, the token endpoint requires those
//   credentials (client_secret_basic or client_secret_post); otherwise any client is accepted.
// - The user is MOCK_SUB / MOCK_EMAIL / MOCK_USERNAME / MOCK_NAME (defaults: mock-user-1,
//   mock@example.com, mockuser, Mock User), email_verified true. A test can choose another
//   user for one login by adding query parameters to the /authorize URL: mock_sub,
//   mock_email, mock_username, mock_name, mock_email_verified=false.
// - GET /userinfo needs "Authorization: Bearer <access token issued by this mock>" and
//   returns that login's user; otherwise 401.
import { OAuth2Server } from 'oauth2-mock-server';

const host = process.env.HOST || '127.0.0.1';
const port = Number.parseInt(process.env.PORT ?? process.argv[2] ?? '0', 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${process.env.PORT ?? process.argv[2]}`);
  process.exit(2);
}

const defaultUser = {
  sub: process.env.MOCK_SUB || 'mock-user-1',
  email: process.env.MOCK_EMAIL || 'mock@example.com',
  email_verified: true,
  preferred_username: process.env.MOCK_USERNAME || 'mockuser',
  name: process.env.MOCK_NAME || 'Mock User',
};
const requiredClientId = process.env.MOCK_CLIENT_ID;
const requiredClientSecret = process.env.MOCK_CLIENT_SECRET;

// code -> { user, redirectUri, clientId, hasChallenge }   (removed when redeemed)
const codes = new Map();
// access token / refresh token -> user
const accessTokens = new Map();
const refreshTokens = new Map();

function userFromQuery(query) {
  const one = (v) => (typeof v === 'string' && v !== '' ? v : undefined);
  const sub = one(query.mock_sub);
  return {
    sub: sub ?? defaultUser.sub,
    email: one(query.mock_email) ?? (sub ? `${sub}@example.com` : defaultUser.email),
    email_verified: query.mock_email_verified !== 'false',
    preferred_username: one(query.mock_username) ?? sub ?? defaultUser.preferred_username,
    name: one(query.mock_name) ?? defaultUser.name,
  };
}

function clientCredentials(req) {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Basic ')) {
    const raw = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const i = raw.indexOf(':');
    if (i >= 0) {
      // RFC 6749 2.3.1: id and secret are form-urlencoded before base64.
      const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
      return { id: dec(raw.slice(0, i)), secret: dec(raw.slice(i + 1)) };
    }
  }
  return { id: req.body?.client_id, secret: req.body?.client_secret };
}

function userForTokenRequest(req) {
  const body = req.body ?? {};
  if (body.grant_type === 'authorization_code') return codes.get(body.code)?.user;
  if (body.grant_type === 'refresh_token') return refreshTokens.get(body.refresh_token);
  return undefined;
}

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

server.service.on('beforeAuthorizeRedirect', ({ url }, req) => {
  const code = url.searchParams.get('code');
  if (!code) return;
  codes.set(code, {
    user: userFromQuery(req.query),
    redirectUri: req.query.redirect_uri,
    clientId: req.query.client_id,
    hasChallenge: typeof req.query.code_challenge === 'string' && req.query.code_challenge !== '',
  });
});

server.service.on('beforeTokenSigning', (token, req) => {
  const user = userForTokenRequest(req);
  if (!user) return;
  token.payload.sub = user.sub;
  if (!('amr' in token.payload)) {
    // The ID token (the library gives access tokens an "amr" claim, ID tokens none).
    Object.assign(token.payload, {
      email: user.email,
      email_verified: user.email_verified,
      preferred_username: user.preferred_username,
      name: user.name,
    });
  }
});

server.service.on('beforeResponse', (response, req) => {
  const body = req.body ?? {};
  const fail = (statusCode, error, description) => {
    response.statusCode = statusCode;
    response.body = { error, error_description: description };
  };
  if (requiredClientId !== undefined && requiredClientSecret !== undefined) {
    const { id, secret } = clientCredentials(req);
    if (id !== requiredClientId || secret !== requiredClientSecret) {
      return fail(401, 'invalid_client', 'client authentication failed');
    }
  }
  let user;
  if (body.grant_type === 'authorization_code') {
    const entry = codes.get(body.code);
    if (!entry) return fail(400, 'invalid_grant', 'unknown, expired or already used code');
    codes.delete(body.code);
    if (entry.redirectUri !== body.redirect_uri) {
      return fail(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    }
    const { id } = clientCredentials(req);
    if (entry.clientId !== undefined && entry.clientId !== id) {
      return fail(400, 'invalid_grant', 'code was issued to another client');
    }
    if (entry.hasChallenge && typeof body.code_verifier !== 'string') {
      return fail(400, 'invalid_grant', 'code_verifier required');
    }
    user = entry.user;
  } else if (body.grant_type === 'refresh_token') {
    user = refreshTokens.get(body.refresh_token);
    if (!user) return fail(400, 'invalid_grant', 'unknown refresh token');
  }
  if (user && response.statusCode === 200) {
    accessTokens.set(response.body.access_token, user);
    if (response.body.refresh_token) refreshTokens.set(response.body.refresh_token, user);
  }
});

server.service.on('beforeUserinfo', (response, req) => {
  const auth = req.headers.authorization;
  const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
  const user = token === undefined ? undefined : accessTokens.get(token);
  if (!user) {
    response.statusCode = 401;
    response.body = { error: 'invalid_token' };
    return;
  }
  response.body = { ...user };
});

await server.start(port, host);
const actualPort = server.address().port;
const urlHost = host.includes(':') ? `[${host}]` : host;
// The library would call the issuer http://localhost:PORT for any 127.x host; the tests use
// the literal address, and the ID token's "iss" must equal the URL used for discovery.
server.issuer.url = `http://${urlHost}:${actualPort}`;
process.stdout.write(`READY ${server.issuer.url}\n`);

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 2000).unref();
  try {
    await server.stop();
  } catch (err) {
    console.error(`error while stopping on ${signal}:`, err);
  }
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
