// node genkey.mjs FILE: writes a fresh RSA signing key (JWK and PEM) to FILE for provider.mjs.
// Apart from provider.mjs so that making a key does not load oidc-provider (a static import
// runs before any code of the module, and a node that hung while loading it held a test up).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = randomUUID();
const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
writeFileSync(process.argv[2], JSON.stringify({ kid, jwk, pem }));
