// A real OpenID provider for Civitas's tests, listening on 127.0.0.1 only.
//
//   PORT=… KEYS=a.json[,b.json] REDIRECT_URI=… node provider.mjs
//
// The first key signs; the others are published too (as after a rotation). Accounts:
// `mario` (a citizen: SPID's fiscalNumber claim), `op1` (an operator of the body), and the
// client `sap-connector` for the client-credentials grant. Tokens for the resource
// `urn:civitas` are JWTs with audience `civitas`.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const keys = process.env.KEYS.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')).jwk);

const ACCOUNTS = {
  mario: { name: 'Mario Rossi', fiscalNumber: 'TINIT-RSSMRA85T10A562S' },
  op1: { name: 'Olga Pini', groups: ['operator', 'supervisor', 'not-a-role'] },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'civitas-web',
      client_secret: 'web-secret',
      redirect_uris: [process.env.REDIRECT_URI ?? 'http://127.0.0.1/unused'],
      post_logout_redirect_uris: [process.env.POST_LOGOUT_URI ?? 'http://127.0.0.1/unused'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    {
      client_id: 'sap-connector',
      client_secret: 'sap-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    },
  ],
  jwks: { keys },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, ...(ACCOUNTS[id] ?? {}) }),
  }),
  claims: { openid: ['sub'], profile: ['name', 'fiscalNumber', 'groups'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:civitas',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: 'civitas',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: async (_ctx, token) => {
    const extra = token.accountId ? ACCOUNTS[token.accountId] : undefined;
    return extra ? { ...extra } : undefined;
  },
  loadExistingGrant: async (ctx) => {
    // Consent is implied: these are test users of a test client.
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile');
    grant.addOIDCClaims(['fiscalNumber', 'groups', 'name']);
    grant.addResourceScope('urn:civitas', 'api');
    await grant.save();
    return grant;
  },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
