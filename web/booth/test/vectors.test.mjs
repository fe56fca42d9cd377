// Reproduces testdata/vectors (SPEC.md §12) with the booth module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as koe from '../src/koe.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const load = (name) => JSON.parse(readFileSync(`${root}testdata/vectors/${name}`, 'utf8'));
const hex = koe.fromHex;
const h = koe.toHex;

test('transcript.json: framing, SHA-512 challenges, SHA-256 digests', () => {
  const v = load('transcript.json');
  for (const c of v.transcripts) {
    const t = koe.transcript(c.domain);
    for (const w of c.writes ?? []) {
      const b = hex(w.value);
      switch (w.type) {
        case 'bytes': t.bytes(w.label, b); break;
        case 'string': t.string(w.label, new TextDecoder().decode(b)); break;
        case 'uint64': t.uint64(w.label, BigInt('0x' + w.value)); break;
        case 'element': t.element(w.label, koe.decodeElement(b)); break;
        case 'scalar': t.scalar(w.label, koe.decodeScalar(b)); break;
        default: throw new Error(w.type);
      }
    }
    assert.equal(h(t.input()), c.input, c.name);
    assert.equal(h(t.sha512()), c.sha512, c.name);
    assert.equal(h(koe.encodeScalar(t.challenge())), c.challenge, c.name);
    assert.equal(h(t.digest()), c.digest, c.name);
  }
  for (const c of v.hash_to_scalar) {
    assert.equal(h(koe.encodeScalar(koe.scalarFromUniformBytes(hex(c.input)))), c.scalar);
  }
});

test('elgamal.json: encryption and decoding', () => {
  const v = load('elgamal.json');
  for (const c of v.encryption) {
    const x = koe.decodeScalar(hex(c.x));
    const K = koe.generator().multiply(x);
    assert.equal(h(K.toBytes()), c.K);
    const ct = koe.encrypt(koe.decodeElement(hex(c.K)), c.m, koe.decodeScalar(hex(c.r)));
    assert.equal(h(koe.encodeCiphertext(ct)), c.ciphertext, c.name);
  }
  for (const c of v.decoding) {
    if (c.valid) {
      const ct = koe.decodeCiphertext(hex(c.ciphertext));
      assert.equal(h(koe.encodeCiphertext(ct)), c.ciphertext, c.name);
    } else {
      assert.throws(() => koe.decodeCiphertext(hex(c.ciphertext)), undefined, c.name);
    }
  }
});

function rangeStatement(c) {
  const ct = koe.decodeCiphertext(hex(c.ciphertext));
  return { context: hex(c.context), K: koe.decodeElement(hex(c.K)), A: ct.A, B: ct.B, lo: c.lo, hi: c.hi };
}

test('range.json: valid proofs regenerate byte for byte from their seeds', () => {
  const v = load('range.json');
  let n = 0;
  for (const c of v.vectors.filter((c) => c.valid)) {
    // The reader first: the scalars drawn, in order.
    const rng = koe.shakeRandom(c.seed);
    assert.deepEqual(c.randomness.map(() => h(koe.encodeScalar(koe.randomScalar(rng)))), c.randomness, c.name);
    const st = rangeStatement(c);
    const proof = koe.proveRange(st, c.m, koe.decodeScalar(hex(c.r)), koe.shakeRandom(c.seed));
    assert.equal(h(proof), c.proof, c.name);
    assert.equal(koe.verifyRange(st, hex(c.proof)), true, c.name);
    n++;
  }
  assert.equal(n, 6);
});

test('range.json: every invalid vector is rejected', () => {
  const v = load('range.json');
  let n = 0;
  for (const c of v.vectors.filter((c) => !c.valid)) {
    assert.throws(() => koe.verifyRange(rangeStatement(c), hex(c.proof)), undefined, `${c.name}: ${c.reason}`);
    n++;
  }
  assert.equal(n, 28);
});

const elections = new Map();
function electionOf(c) {
  const key = c.manifest + c.K + c.registrar;
  if (!elections.has(key)) elections.set(key, koe.election(readFileSync(root + c.manifest), c.K, c.registrar));
  return elections.get(key);
}

test('ballot.json: manifest hash, context, encryption, tracking codes', () => {
  const v = load('ballot.json');
  let n = 0;
  for (const c of v.vectors.filter((c) => c.valid)) {
    const el = electionOf(c);
    assert.equal(h(el.manifestHash), c.manifest_hash, c.name);
    assert.equal(h(el.context), c.context, c.name);
    const K = koe.generator().multiply(koe.decodeScalar(hex(c.x)));
    assert.equal(h(K.toBytes()), c.K);
    const pt = koe.plaintextFromAnswers(el.manifest, c.answers);
    assert.deepEqual(pt, c.plaintext, c.name);
    assert.deepEqual(koe.answersFromPlaintext(el.manifest, pt), c.answers, c.name);
    const b = koe.encryptBallot(el, hex(c.binding), pt, koe.shakeRandom(c.seed));
    assert.equal(h(b.bytes), c.ballot, c.name);
    assert.equal(h(b.trackingCode), c.tracking_code, c.name);
    assert.equal(koe.formatTrackingCode(b.trackingCode), c.tracking_code_text, c.name);
    assert.equal(koe.formatTrackingCode(b.trackingCode, true), c.tracking_code_text.slice(0, 19));
    const d = koe.verifyBallot(el, hex(c.ballot));
    assert.equal(h(d.trackingCode), c.tracking_code);
    // Benaloh: the spoiled ballot opens to the plaintext.
    const spoiled = koe.spoil(b.bytes, pt, b.nonces);
    assert.deepEqual(koe.checkSpoiled(el, spoiled), pt);
    n++;
  }
  assert.equal(n, 5); // referendum ×2, survey, city survey with text and rank ×2
});

test('ballot.json: every invalid ballot is rejected', () => {
  const v = load('ballot.json');
  let n = 0;
  for (const c of v.vectors.filter((c) => !c.valid)) {
    const el = electionOf(c);
    const b = hex(c.ballot);
    assert.equal(h(koe.trackingCode(b)), c.tracking_code, c.name);
    assert.equal(koe.formatTrackingCode(koe.trackingCode(b)), c.tracking_code_text, c.name);
    // A rating with two values or none fails its total proof [1, 1].
    assert.throws(() => koe.verifyBallot(el, b), c.name.startsWith('rating') ? /question 3.*total/ : undefined, `${c.name}: ${c.reason}`);
    n++;
  }
  assert.equal(n, 14); // incl. a copied comment, a re-encrypted rank component and ratings with two values or none
});

test('receipts.json: every receipt of server-record verifies; every altered one is refused', () => {
  const v = load('receipts.json');
  const key = koe.parseBoardKey(v.boardKey);
  const enc = new TextEncoder();
  for (const c of v.valid) {
    const { checkpoint, entry } = koe.verifyReceipt(c.receipt, enc.encode(c.entry), v.boardKey);
    assert.equal(entry.type, 'ballot');
    assert.equal(checkpoint.size, 37);
    // The receipt's tracking code is the entry's ballot's.
    assert.equal(h(koe.trackingCode(koe.base64Decode(entry.body.ballot))), c.receipt.tracking);
    assert.ok(koe.verifyReceipt(c.receipt, enc.encode(c.entry), key));
  }
  assert.equal(v.valid.length, 8); // 6 counted, 2 replaced by re-votes
  for (const c of v.invalid) {
    assert.throws(() => koe.verifyReceipt(c.receipt, enc.encode(c.entry), v.boardKey), undefined, c.reason);
  }
  assert.ok(v.invalid.length >= 14);
  // A key with a wrong hash, or another key, is refused.
  assert.throws(() => koe.parseBoardKey(v.boardKey.replace(/\+([0-9a-f])/, (_, d) => '+' + (d === '0' ? '1' : '0'))));
  const other = koe.base64Encode(Uint8Array.of(1, ...new Uint8Array(32).fill(7)));
  const name = v.boardKey.split('+')[0];
  assert.throws(() => koe.openCheckpoint(v.valid[0].receipt.checkpoint, koe.parseBoardKey(`${name}+${h(key.keyHash)}+${other}`)));
});

test('roll.json: roll commitments of letters, digital-ID values', () => {
  const v = load('roll.json');
  let ok = 0, bad = 0;
  for (const c of v.commitments) {
    if (!c.valid) {
      assert.throws(() => koe.rollCommitment(c.election, c.voter, c.code), undefined, `${c.voter}/${c.code}`);
      bad++;
      continue;
    }
    assert.equal(koe.normalizeVoter(c.voter), c.normal_voter);
    assert.equal(koe.normalizeCode(c.code), c.normal_code);
    assert.equal(h(koe.rollCommitment(c.election, c.voter, c.code)), c.c);
    assert.equal(c.issued_body, `{"roll":"${c.c}"}`);
    ok++;
  }
  assert.ok(ok >= 4 && bad >= 3);
  for (const d of v.digital_id) {
    assert.equal(h(koe.digitalIdEntry(d.election, hex(d.blinded))), d.d);
    assert.equal(d.issued_body, `{"digitalId":"${d.d}"}`);
  }
});
