// Credentials (SPEC §14) and cast envelopes (SPEC §15.4): a round trip
// against a registrar key made here with blindrsa-ts, the RFC 9474 vector,
// and the Go-made envelopes of testdata/vectors/server-record. The live Go
// interop test is internal/ballotbox/booth_live_test.go (interop.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import * as koe from '../src/koe.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const h = koe.toHex;
const hex = koe.fromHex;

test('RFC 9474 vector: blindrsa-ts blind-signs and finalizes byte for byte', async () => {
  const v = JSON.parse(readFileSync(`${root}internal/credential/testdata/rfc9474-sha384-pss-randomized.json`, 'utf8'));
  const big = (s) => BigInt(s);
  const n = big(v.n), e = big(v.e), d = big(v.d), p = big(v.p), q = big(v.q);
  const modpow = (b, x, m) => { let r = 1n; b %= m; for (; x > 0n; x >>= 1n, b = (b * b) % m) if (x & 1n) r = (r * b) % m; return r; };
  const b64u = (x) => { let s = x.toString(16); if (s.length % 2) s = '0' + s; return koe.base64urlEncode(hex(s)); };
  const jwk = { kty: 'RSA', n: b64u(n), e: b64u(e), d: b64u(d), p: b64u(p), q: b64u(q),
    dp: b64u(d % (p - 1n)), dq: b64u(d % (q - 1n)), qi: b64u(modpow(q, p - 2n, p)), alg: 'PS384', ext: true };
  const alg = { name: 'RSA-PSS', hash: 'SHA-384' };
  const sk = await crypto.subtle.importKey('jwk', jwk, alg, true, ['sign']);
  const pk = await crypto.subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'PS384', ext: true }, alg, true, ['verify']);
  const suite = RSABSSA.SHA384.PSS.Randomized();
  const blindSig = await suite.blindSign(sk, hex(v.blinded_msg));
  assert.equal(h(blindSig), v.blind_sig);
  const kLen = blindSig.length;
  const sig = await suite.finalize(pk, hex(v.input_msg), blindSig, hex(v.inv.slice(2).padStart(2 * kLen, '0')));
  assert.equal(h(sig), v.sig);
});

async function makeRegistrar(bits = 2048) {
  const kp = await RSABSSA.SHA384.generateKey({ modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) });
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', kp.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', kp.privateKey));
  return {
    publicText: 'koe-registrar-pub-v1:' + koe.base64urlEncode(spki),
    secretText: 'koe-registrar-secret-v1:' + koe.base64urlEncode(pkcs8),
    sign: (blinded) => RSABSSA.SHA384.PSS.Randomized().blindSign(kp.privateKey, blinded),
  };
}

test('credential round trip, ballot, cast envelope', async () => {
  const ballots = JSON.parse(readFileSync(`${root}testdata/vectors/ballot.json`, 'utf8')).vectors;
  const v = ballots.find((c) => c.valid && c.manifest === 'examples/survey.json');
  const reg = await makeRegistrar();
  // The context binds this registrar's key id (SPEC §7.4).
  const el = koe.election(readFileSync(root + v.manifest), v.K, (await koe.importRegistrarKey(reg.publicText)).keyId);

  const { blinded, pending } = await koe.requestCredential(reg.publicText, el.context);
  assert.equal(blinded.length, 256);
  // pending survives storage as JSON.
  const stored = JSON.parse(JSON.stringify(pending));
  const blindSig = await reg.sign(blinded);
  const { credential, secret, vk } = await koe.finalizeCredential(stored, blindSig);
  assert.equal(credential.length, 32 + 32 + 256);
  await koe.verifyCredential(reg.publicText, el.context, credential);
  // Another election's context does not verify.
  await assert.rejects(koe.verifyCredential(reg.publicText, new Uint8Array(32), credential));
  // A tampered blind signature is refused.
  const bad = blindSig.slice(); bad[10] ^= 1;
  await assert.rejects(koe.finalizeCredential(stored, bad));

  const salt = koe.bindingSalt(), salt2 = koe.bindingSalt();
  const binding = koe.ballotBinding(vk, salt);
  assert.notEqual(h(binding), h(koe.ballotBinding(vk, salt2)), 'the binding depends on the salt');
  const pt = koe.plaintextFromAnswers(el.manifest, v.answers);
  const b = koe.encryptBallot(el, binding, pt);
  koe.verifyBallot(el, b.bytes);
  const env1 = koe.castEnvelope(el, secret, b.bytes, salt, 1);
  const got = await koe.verifyEnvelope(el, reg.publicText, env1);
  assert.equal(h(got.trackingCode), h(b.trackingCode));
  // A re-vote: a new ballot, counter 2.
  const b2 = koe.encryptBallot(el, koe.ballotBinding(vk, salt2), koe.plaintextFromAnswers(el.manifest, { ...v.answers, 'science-city': 2 }));
  const env2 = koe.castEnvelope(el, secret, b2.bytes, salt2, 2);
  // Another salt than the ballot's is refused.
  await assert.rejects(koe.verifyEnvelope(el, reg.publicText, koe.castEnvelope(el, secret, b2.bytes, salt, 2)));
  // A salt of the wrong length is refused.
  const shortSalt = JSON.parse(env2); shortSalt.salt = koe.base64Encode(new Uint8Array(31));
  await assert.rejects(koe.verifyEnvelope(el, reg.publicText, shortSalt));
  const noSalt = JSON.parse(env2); delete noSalt.salt;
  await assert.rejects(koe.verifyEnvelope(el, reg.publicText, noSalt));
  await koe.verifyEnvelope(el, reg.publicText, env2);
  // The signature is over the counter.
  const forged = JSON.parse(env1); forged.counter = 3;
  await assert.rejects(koe.verifyEnvelope(el, reg.publicText, forged));
  // A ballot bound to another key is refused.
  const other = koe.encryptBallot(el, new Uint8Array(32), pt);
  await assert.rejects(koe.verifyEnvelope(el, reg.publicText, koe.castEnvelope(el, secret, other.bytes, salt, 4)));

  const spoiled = koe.spoil(b.bytes, pt, b.nonces);
  assert.deepEqual(koe.answersFromPlaintext(el.manifest, koe.checkSpoiled(el, spoiled)), v.answers);

  const s = koe.parseCredentialSecret(secret);
  assert.equal(h(s.seed), pending.seed);
  assert.equal(h(s.credential), h(credential));
  assert.equal(h(koe.credentialKeyHash(vk)), h(koe.credentialKeyHash(s.vk)));
});

test('server-record: the Go-made envelopes and spoiled ballot verify here', async () => {
  const dir = `${root}testdata/vectors/server-record/`;
  const entries = readFileSync(dir + 'board/entries.jsonl', 'utf8').split('\n').filter(Boolean);
  const body = (line) => line.slice(line.indexOf(',"body":') + 8, -1);
  const manifest = JSON.parse(body(entries.find((e) => e.includes('"type":"manifest"')))).manifest;
  const ej = JSON.parse(readFileSync(dir + 'election.json', 'utf8'));
  const regText = JSON.parse(body(entries.find((e) => e.includes('"type":"registrar-key"')))).key;
  const reg = await koe.importRegistrarKey(regText);
  assert.equal(h(reg.keyId), ej.registrarKey);
  const el = koe.election(koe.base64Decode(manifest), ej.jointKey, reg.keyId);
  assert.equal(h(el.context), ej.context);
  let n = 0;
  for (const e of entries.filter((e) => e.includes('"type":"ballot"'))) {
    const text = body(e);
    const env = JSON.parse(text);
    const r = await koe.verifyEnvelope(el, regText, text);
    // Rebuilding the envelope with this module gives the board's bytes.
    const sig = koe.base64Decode(env.signature);
    assert.equal(koe.envelope(koe.base64Decode(env.ballot), koe.base64Decode(env.credential), koe.base64Decode(env.salt), env.counter, sig), text);
    assert.equal(r.counter, env.counter);
    n++;
  }
  assert.equal(n, 8);
  for (const line of readFileSync(dir + 'spoiled.jsonl', 'utf8').split('\n').filter((l) => l.trim())) {
    const s = JSON.parse(line);
    const values = koe.checkSpoiled(el, line);
    // Re-spoiling with this module gives the same JSON bytes.
    const nonces = s.nonces.map((row) => row.map((x) => koe.decodeScalar(hex(x, 32))));
    assert.equal(koe.spoil(koe.base64Decode(s.ballot), values, nonces), line);
  }
});

test('nextCounter: 1 for a first cast, else the last on the board plus 1, checked against the entry', () => {
  const vk = new Uint8Array(32).fill(7), other = new Uint8Array(32).fill(8);
  const cred = (k) => { const c = new Uint8Array(72); c.set(k); return koe.base64Encode(c); };
  const entry = (type, k, counter) => JSON.stringify({ type, election: 'e', time: '2026-01-01T00:00:00Z', body: { ballot: 'AA==', credential: cred(k), salt: 'AA==', counter, signature: 'AA==' } });
  assert.equal(koe.nextCounter(vk, { next: 1 }), 1);
  assert.equal(koe.nextCounter(vk, { next: 3, last: 2, index: 9 }, entry('ballot', vk, 2)), 3);
  for (const [name, state, text] of [
    ['a first cast with another counter', { next: 5 }, undefined],
    ['next is not last + 1', { next: 5, last: 2, index: 9 }, entry('ballot', vk, 2)],
    ['last 0 with an index', { next: 1, last: 0, index: 9 }, entry('ballot', vk, 0)],
    ['no index but a last', { next: 3, last: 2 }, undefined],
    ['the entry has another counter', { next: 3, last: 2, index: 9 }, entry('ballot', vk, 1)],
    ['the entry is another credential\'s', { next: 3, last: 2, index: 9 }, entry('ballot', other, 2)],
    ['the entry is not a ballot', { next: 3, last: 2, index: 9 }, entry('spoiled', vk, 2)],
    ['not an object', null, undefined],
  ]) {
    assert.throws(() => koe.nextCounter(vk, state, text), Error, name);
  }
});
