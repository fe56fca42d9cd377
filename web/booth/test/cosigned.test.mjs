// Reproduces testdata/vectors/cosigned.json (SPEC.md §13.7, §13.8) with the
// booth's tlog module: witness policies, cosignatures, consistency proofs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as koe from '../src/koe.js';
import * as tlog from '../src/tlog.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const v = JSON.parse(readFileSync(`${root}testdata/vectors/cosigned.json`, 'utf8'));
const keyName = (w) => koe.parseWitnessKey(w.key).name;

test('cosigned.json: every valid checkpoint verifies, with its cosigners and quorum', () => {
  assert.ok(v.valid.length >= 5);
  for (const c of v.valid) {
    const r = tlog.verifyCosigned(c.signed, v.board);
    assert.equal(r.size, c.size, c.name);
    assert.equal(koe.toHex(r.hash), c.hash, c.name);
    assert.deepEqual(r.cosigners.map(keyName), c.cosigners ?? [], c.name);
    assert.equal(r.met, c.quorumMet, c.name);
    assert.equal(r.quorum, 2, c.name);
  }
});

test('cosigned.json: every invalid checkpoint is refused', () => {
  assert.ok(v.invalid.length >= 10);
  for (const c of v.invalid) {
    assert.throws(() => tlog.verifyCosigned(c.signed, v.board), Error, `${c.name}: ${c.reason}`);
  }
});

test('cosigned.json: consistency proofs', () => {
  let good = 0, bad = 0;
  for (const c of v.consistency) {
    const run = () => tlog.verifyConsistency(c.fromSize, koe.fromHex(c.fromHash, 32), c.toSize, koe.fromHex(c.toHash, 32),
      c.proof.map((h) => koe.fromHex(h, 32)));
    if (c.valid) {
      good++;
      assert.doesNotThrow(run, c.name);
    } else {
      bad++;
      assert.throws(run, Error, c.name);
    }
  }
  assert.ok(good >= 5 && bad >= 5);
});

test('checkFinal: a receipt checkpoint of size 4 against the final cosigned checkpoint of size 13', () => {
  const sized = (n, quorum) => v.valid.find((c) => c.size === n && c.quorumMet === quorum);
  const proof = v.consistency.find((c) => c.valid && c.fromSize === 4 && c.toSize === 13).proof;
  const receipt = { index: 3, checkpoint: sized(4, false).signed };
  const fin = sized(13, true);
  const r = tlog.checkFinal(receipt, fin.signed, proof, v.board);
  assert.deepEqual(r.cosigners.map(keyName), fin.cosigners);
  // A bad proof, an index beyond the board, a final checkpoint short of the quorum, a smaller final board.
  const altered = [...proof];
  altered[1] = altered[1].replace(/^./, (c) => (c === '0' ? '1' : '0'));
  assert.throws(() => tlog.checkFinal(receipt, fin.signed, altered, v.board), /consistency/);
  assert.throws(() => tlog.checkFinal({ ...receipt, index: 13 }, fin.signed, proof, v.board), /not on the final board/);
  assert.throws(() => tlog.checkFinal(receipt, sized(13, false).signed, proof, v.board), /fewer than the 2/);
  assert.throws(() => tlog.checkFinal({ index: 0, checkpoint: fin.signed }, sized(7, true).signed, [], v.board), /cut back/);
  assert.throws(() => tlog.checkFinal(receipt, fin.signed, ['zz'], v.board));
});

test('parseWitnessKey: the vector keys parse; altered ones are refused', () => {
  for (const w of v.board.witnesses) {
    const k = koe.parseWitnessKey(w.key);
    assert.equal(k.publicKey.length, 32);
  }
  const k = v.board.witnesses[0].key;
  const [name, id, b64] = [k.split('+')[0], k.split('+')[1], k.split('+').slice(2).join('+')];
  for (const bad of [
    `${name}+${id.toUpperCase()}+${b64}`,
    `${name}+${id.slice(0, 7)}0+${b64}`.replace(`${id.slice(0, 7)}0`, id.slice(0, 7) + (id[7] === '0' ? '1' : '0')),
    `${name} +${id}+${b64}`,
    `+${id}+${b64}`,
    `${name}+${id}`,
    v.board.key, // a board key (0x01) is not a witness key (0x04)
    `${name}+${id}+${b64}=`,
    null,
  ]) {
    assert.throws(() => koe.parseWitnessKey(bad), Error, String(bad));
  }
});

test('koe.cosigners agrees with verifyCosigned on every valid vector and refuses a short cosignature', () => {
  for (const c of v.valid) {
    assert.deepEqual(koe.cosigners(c.signed, v.board), tlog.verifyCosigned(c.signed, v.board).cosigners.map((w) => w.name), c.name);
  }
  const short = v.invalid.find((c) => c.name === 'cosignature of 75 bytes');
  assert.throws(() => koe.cosigners(short.signed, v.board), /76 bytes/);
});
