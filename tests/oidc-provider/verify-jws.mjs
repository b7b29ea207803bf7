// Verifies a compact JWS with a JSON Web Key Set using panva/jose (the JOSE library the
// OpenID provider is built on): `node verify-jws.mjs <jwks.json file> <jws file>`.
// Prints the payload on success; exits 1 with the reason otherwise.
import { readFileSync } from 'node:fs';
import { compactVerify, createLocalJWKSet } from 'jose';

const [jwksPath, jwsPath] = process.argv.slice(2);
const keys = createLocalJWKSet(JSON.parse(readFileSync(jwksPath, 'utf8')));
try {
  const { payload, protectedHeader } = await compactVerify(readFileSync(jwsPath, 'utf8').trim(), keys);
  process.stdout.write(JSON.stringify({ header: protectedHeader, payload: JSON.parse(new TextDecoder().decode(payload)) }));
} catch (e) {
  process.stderr.write(`${e.code ?? e.name}: ${e.message}\n`);
  process.exit(1);
}
