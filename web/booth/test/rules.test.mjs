// The manifest rules (SPEC §7.2) and answer rules (§8.1) on the vectors
// Go checks too: testdata/vectors/manifests.json and answers.json
// (generated and checked by internal/vectors/rules_test.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as koe from '../src/koe.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const load = (name) => JSON.parse(readFileSync(`${root}testdata/vectors/${name}`, 'utf8'));
const enc = new TextEncoder();

function manifestBytes(v) {
  const b = v.base64 !== undefined ? koe.base64Decode(v.base64) : enc.encode(v.text);
  if (!v.pad) return b;
  const out = new Uint8Array(b.length + v.pad).fill(0x20);
  out.set(b);
  return out;
}

// The booth's manifest errors, by class (the classes of manifests.json).
const jsClass = [
  ['size', /larger than 1 MiB/],
  ['json', /^manifest: JSON: |is not an integer|is not a text|is not a list|is not an object|is not a boolean|en is not a string|options is not a list/],
  ['unknown-field', /unknown field/],
  ['missing', /field "[^"]+" is missing$/],
  ['spec', /spec is not/],
  ['id', /^manifest: bad id$/],
  ['kind', /kind is not "vote" or "survey"/],
  ['text', /has no Japanese text|longer than 2000 bytes/],
  ['time', /opens|closes/],
  ['trustees', /trustees\/threshold/],
  ['questions', /needs 1 to 64 questions/],
  ['question-id', /^manifest: question \d+: (bad id|duplicate id)/],
  ['options', /needs 1 to 64 options|bad or duplicate id|needs 2 to 64 options/],
  ['text-length', /maxLength out of range|maxLength only for text/],
  ['bounds', /minLabel\/maxLabel only for ratings|min\/max not allowed|bad min\/max/],
  ['rating', /a rating has no options|bad rating scale/],
  ['question-kind', /is not allowed in koe\/v2/],
  ['selections', /more than 1024 selections/],
  ['board', /^manifest: board/],
];
const classify = (msg) => (jsClass.find(([, re]) => re.test(msg)) ?? ['unclassified'])[0];

test('manifests.json: the valid manifests parse with their hash, each invalid one is refused for its class', () => {
  const v = load('manifests.json');
  assert.ok(v.valid.length >= 5 && v.invalid.length >= 40);
  for (const c of v.valid) {
    const b = manifestBytes(c);
    assert.ok(koe.parseManifest(b), c.name);
    assert.equal(koe.toHex(koe.manifestHash(b)), c.hash, c.name);
  }
  for (const c of v.invalid) {
    assert.ok(c.class in v.classes, c.name);
    let err;
    try {
      koe.parseManifest(manifestBytes(c));
    } catch (e) {
      err = e;
    }
    assert.ok(err, `${c.name}: accepted`);
    assert.match(err.message, /^manifest: /, c.name);
    assert.equal(classify(err.message), c.class, `${c.name}: ${err.message}`);
  }
});

test('answers.json: the valid answers give their plaintext, each invalid set is refused with its code', () => {
  const v = load('answers.json');
  const m = koe.parseManifest(koe.base64Decode(v.manifest));
  for (const c of v.valid) {
    assert.deepEqual(koe.plaintextFromAnswers(m, koe.parseAnswers(c.answers)), c.plaintext, c.name);
  }
  const seen = new Set();
  for (const c of v.invalid) {
    assert.ok(c.code in v.codes, c.name);
    seen.add(c.code);
    assert.throws(() => koe.plaintextFromAnswers(m, koe.parseAnswers(c.answers)), (e) => {
      assert.equal(e.name, 'AnswerError', c.name);
      assert.equal(e.code, c.code, `${c.name}: ${e.message}`);
      assert.ok(e.text.ja && e.text.en, c.name);
      return true;
    });
  }
  assert.deepEqual([...seen].sort(), Object.keys(v.codes).sort());
});
