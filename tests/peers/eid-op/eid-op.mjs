// Test peer for tests/it/federation.rs: panva's oidc-provider (OpenID Certified), set up as an
// eID service that fronts an eID-Server over OpenID Connect (like Governikus Autent IDConnect):
// the stable subject is the card's RestrictedID pseudonym, the claims are what the chip gives
// (names, birth date and place, address, nationality, document type), the acr is eIDAS high.
//
// Instead of AusweisApp and a card, its interaction page lets the test pick a test card
// ("erika", "max") and "enter the PIN", or cancel (the OP then answers access_denied).
//
// env: PORT; CLIENT_ID, CLIENT_SECRET, REDIRECT_URI (space-separated list), POST_LOGOUT_REDIRECT_URI;
// AUTH_METHOD (client_secret_basic | client_secret_post | private_key_jwt, with CLIENT_JWKS_URI);
// EID_ACR (default http://eidas.europa.eu/LoA/high); PEER_VERBOSE=1 keeps the library's notices.
// Prints "eid-op listening <issuer>" when ready.

import http from 'node:http';

if (process.env.PEER_VERBOSE !== '1') {
  for (const k of ['info', 'warn']) {
    const orig = console[k].bind(console);
    console[k] = (first, ...rest) => {
      if (typeof first === 'string' && first.startsWith('oidc-provider ')) return;
      orig(first, ...rest);
    };
  }
}

const { Provider } = await import('oidc-provider');
const jose = await import('jose');

const PORT = Number(process.env.PORT ?? 3200);
const ISSUER = `http://127.0.0.1:${PORT}`;
const HIGH = 'http://eidas.europa.eu/LoA/high';
const ACR = process.env.EID_ACR ?? HIGH;
const SUPPORTED_ACR = [
  'http://eidas.europa.eu/LoA/low',
  'http://eidas.europa.eu/LoA/substantial',
  HIGH,
];
if (!SUPPORTED_ACR.includes(ACR)) SUPPORTED_ACR.push(ACR);

// Test cards: RestrictedID (per service provider pseudonym) and what the chip holds.
const CARDS = {
  erika: {
    sub: 'rid-6d3f1a9c0b7e4c2a9f1e8d7c6b5a4f3e',
    given_name: 'Erika',
    family_name: 'Mustermann',
    birth_family_name: 'Gabler',
    birthdate: '1964-08-12',
    place_of_birth: 'Berlin',
    address: { street_address: 'Heidestraße 17', postal_code: '51147', locality: 'Köln', country: 'DE' },
    nationalities: ['DE'],
    document_type: 'ID',
  },
  max: {
    sub: 'rid-0a1b2c3d4e5f60718293a4b5c6d7e8f9',
    given_name: 'Max',
    family_name: 'Mustermann',
    birthdate: '1970-01-01',
    place_of_birth: 'Münster',
    address: { street_address: 'Hauptstraße 1', postal_code: '48143', locality: 'Münster', country: 'DE' },
    nationalities: ['DE'],
    document_type: 'ID',
  },
};
const bySub = Object.fromEntries(Object.values(CARDS).map((c) => [c.sub, c]));

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await jose.exportJWK(privateKey)), kid: 'eid-rs256', alg: 'RS256', use: 'sig' };

const authMethod = process.env.AUTH_METHOD ?? 'client_secret_basic';
const client = {
  client_id: process.env.CLIENT_ID ?? 'pforte',
  // One or more (space-separated): several sources at Pforte may share this client.
  redirect_uris: (process.env.REDIRECT_URI ?? 'http://127.0.0.1:9999/cb').split(' '),
  post_logout_redirect_uris: process.env.POST_LOGOUT_REDIRECT_URI ? [process.env.POST_LOGOUT_REDIRECT_URI] : [],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: authMethod,
  default_acr_values: [ACR],
};
if (authMethod === 'private_key_jwt') {
  client.jwks_uri = process.env.CLIENT_JWKS_URI;
  client.token_endpoint_auth_signing_alg = 'RS256';
} else {
  client.client_secret = process.env.CLIENT_SECRET ?? 'eid-secret';
}

const provider = new Provider(ISSUER, {
  clients: [client],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['eid-op-cookie-key-not-secret'] },
  pkce: { required: () => true },
  acrValues: SUPPORTED_ACR,
  claims: {
    acr: null, auth_time: null, sid: null,
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'birth_family_name', 'birthdate', 'place_of_birth', 'nationalities', 'document_type'],
    address: ['address'],
  },
  scopes: ['openid', 'profile', 'address'],
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // No confirmation page in the test peer: the form submits itself once loaded, and a
      // client without JavaScript submits it as a plain form.
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html><body>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Abmelden</button></body></html>`;
      },
    },
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  // First-party style: the eID service asks the citizen on its own page, so no consent prompt.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
    grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // Pforte's jwks_uri (private_key_jwt) is on loopback, which oidc-provider's SSRF guard
  // refuses; this test peer talks only to the Pforte under test, so it fetches without it.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  async findAccount(ctx, sub) {
    const card = bySub[sub];
    if (!card) return undefined;
    return { accountId: sub, async claims() { return { ...card }; } };
  },
});

// PEER_VERBOSE=1: why a request was refused (for example a client assertion), on stderr.
if (process.env.PEER_VERBOSE === '1') {
  for (const ev of ['grant.error', 'server_error', 'authorization.error', 'userinfo.error']) {
    provider.on(ev, (ctx, err) => console.error(`eid-op ${ev}: ${err.message} ${err.error_description ?? ''} ${err.error_detail ?? ''} ${err.cause?.message ?? ''} ${err.cause?.cause?.message ?? ''}`));
  }
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10000) break;
  }
  return new URLSearchParams(body);
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, ISSUER);
  const m = url.pathname.match(/^\/interaction\/([A-Za-z0-9_-]+)(\/(login|abort))?$/);
  if (!m) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET' && !m[2]) {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!DOCTYPE html><html lang="de"><head><title>Online-Ausweis</title></head><body>
<h1>Mit dem Online-Ausweis anmelden (Testdienst)</h1>
<p>Angefragt: ${escape(details.params.acr_values ?? '')}</p>
<form method="post" action="/interaction/${escape(details.uid)}/login">
<label>Testkarte <select name="card"><option value="erika">Erika Mustermann</option><option value="max">Max Mustermann</option></select></label>
<label>PIN <input name="pin" type="password" value="123456"></label>
<button type="submit" id="pin-ok">PIN bestätigen</button>
</form>
<form method="post" action="/interaction/${escape(details.uid)}/abort"><button type="submit" id="cancel">Abbrechen</button></form>
</body></html>`);
      return;
    }
    if (req.method === 'POST' && m[3] === 'login') {
      const form = await readForm(req);
      const card = CARDS[form.get('card') ?? ''];
      if (!card) { res.statusCode = 400; res.end('unknown card'); return; }
      await provider.interactionFinished(req, res, {
        login: { accountId: card.sub, acr: ACR, amr: ['hwk', 'pin'] },
      }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'POST' && m[3] === 'abort') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'the citizen cancelled the eID login',
      }, { mergeWithLastSubmission: false });
      return;
    }
    res.statusCode = 405;
    res.end();
  } catch (e) {
    res.statusCode = 400;
    res.end(`interaction failed: ${e.message}`);
  }
});

server.listen(PORT, '127.0.0.1', () => {
  console.log(`eid-op listening ${ISSUER}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
