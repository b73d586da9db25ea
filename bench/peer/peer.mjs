// The peer of Pforte's side-by-side load runs (bench/side-by-side.sh): panva's oidc-provider,
// OpenID Certified, set up the way a Pforte deployment is for the measured endpoints: one
// confidential client `rp` / `rp-secret` (client_secret_basic) with the client_credentials grant,
// introspection for the client's own tokens, PKCE required. Its client_credentials tokens are
// opaque and live in oidc-provider's in-memory adapter (nothing on disk), where Pforte signs a JWT
// (RFC 9068) and records it durably: docs/performance.md names that difference next to the ratios.
// This is the configuration the speed targets in the issues were set against.
//
// env: PORT (3100).  Issuer: http://127.0.0.1:PORT.
//
// oidc-provider prints development notices (console.info / console.warn, some while it is
// imported); they are dropped unless PEER_VERBOSE=1, so the import comes after the filter.
if (process.env.PEER_VERBOSE !== '1') {
  for (const level of ['info', 'warn']) {
    const original = console[level].bind(console);
    console[level] = (msg, ...rest) =>
      typeof msg === 'string' && msg.startsWith('oidc-provider ') ? undefined : original(msg, ...rest);
  }
}
const { default: Provider } = await import('oidc-provider');
const { generateKeyPair, exportJWK } = await import('jose');

const port = Number(process.env.PORT ?? 3100);
const issuer = `http://127.0.0.1:${port}`;

async function signingKey(alg, kid) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), alg, kid, use: 'sig' };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'rp',
    client_secret: 'rp-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: ['http://127.0.0.1:9999/cb'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
  }],
  jwks: { keys: [await signingKey('ES256', 'peer-es256'), await signingKey('RS256', 'peer-rs256')] },
  cookies: { keys: [`bench-only-${process.pid}`] },
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  features: {
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // Like Pforte: a client may introspect the tokens it was issued.
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    revocation: { enabled: true },
  },
  ttl: { ClientCredentials: 600, AccessToken: 600 },
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub }; } };
  },
});

provider.listen(port, '127.0.0.1', () => console.log(`bench peer (oidc-provider) on ${issuer}, pid ${process.pid}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
