// Answers → plaintext (SPEC §8.1): messages in Japanese and English, and
// cases beyond the shared vectors of rules.test.mjs (testdata/vectors/answers.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as koe from '../src/koe.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const manifest = (name) => koe.parseManifest(readFileSync(`${root}examples/${name}.json`));

function rejects(m, answers, code, message) {
  assert.throws(() => koe.plaintextFromAnswers(m, answers), (e) => {
    assert.ok(e instanceof koe.AnswerError, e.message);
    assert.equal(e.code, code);
    if (message) assert.equal(e.message, message);
    assert.ok(e.text.ja && e.text.en);
    return true;
  });
}

test('survey answers: every rule', () => {
  const m = manifest('survey');
  const ok = { age: '40s', fields: ['disaster', 'childcare'], 'science-city': 4, 'internet-voting': 'rather-for' };
  assert.ok(koe.plaintextFromAnswers(m, ok));
  rejects(m, { ...ok, nope: 1 }, 'unknown-question', 'answer to unknown question "nope"');
  rejects(m, { ...ok, 'internet-voting': 'maybe' }, 'no-such-option', 'question "internet-voting" has no option "maybe"');
  rejects(m, { ...ok, 'internet-voting': 3 }, 'not-an-option');
  rejects(m, { ...ok, fields: ['disaster', 'disaster'] }, 'chosen-twice', 'question "fields": option "disaster" chosen twice');
  rejects(m, { ...ok, fields: 7 }, 'not-a-list');
  rejects(m, { ...ok, 'science-city': 4.5 }, 'out-of-range');
  rejects(m, { ...ok, 'science-city': '4' }, 'not-a-number');
  const { 'science-city': _, ...noRating } = ok;
  rejects(m, noRating, 'needs-answer');
  // A single string for a multiple-choice question is a one-element list.
  assert.deepEqual(koe.plaintextFromAnswers(m, { ...ok, fields: 'disaster' }),
    koe.plaintextFromAnswers(m, { ...ok, fields: ['disaster'] }));
});

test('a rating is one-hot, as in Go (SPEC §8.1)', () => {
  const m = manifest('survey');
  const ok = { age: '40s', fields: ['disaster'], 'internet-voting': 'for' };
  for (let v = 1; v <= 5; v++) {
    const pt = koe.plaintextFromAnswers(m, { ...ok, 'science-city': v });
    const row = [0, 0, 0, 0, 0];
    row[v - 1] = 1;
    assert.deepEqual(pt[2], row);
    assert.equal(koe.answersFromPlaintext(m, pt)['science-city'], v);
  }
  const style = koe.ballotStyle(m)[2];
  assert.equal(style.selections, 5);
  assert.equal(style.max, 1);
  assert.deepEqual([style.hasTotal, style.lo, style.hi], [true, 1, 1]);
  // A plaintext with two values of the rating, or none, is refused
  // before anything is encrypted, with the same words as Go's.
  const el = koe.election(readFileSync(`${root}examples/survey.json`), koe.generator().multiply(7n).toBytes(), new Uint8Array(32));
  const good = koe.plaintextFromAnswers(m, { ...ok, 'science-city': 3 });
  const binding = new Uint8Array(32);
  for (const [row, n] of [[[0, 1, 0, 1, 0], 2], [[0, 0, 0, 0, 0], 0], [[1, 1, 1, 1, 1], 5]]) {
    const pt = good.map((r, i) => (i === 2 ? row : r));
    assert.throws(() => koe.encryptBallot(el, binding, pt),
      new RegExp(`question 3 \\(science-city\\): a rating has exactly one value chosen, this has ${n}`));
  }
  assert.throws(() => koe.encryptBallot(el, binding, good.map((r, i) => (i === 2 ? [2] : r))), /1 values, want 5/);
});

test('referendum and budget answers', () => {
  const r = manifest('referendum');
  rejects(r, {}, 'needs-answer', 'question "plan" needs an answer');
  rejects(r, { plan: null }, 'json'); // a question is skipped only by leaving it out (SPEC §8.1)
  rejects(r, {}, 'needs-answer');
  assert.deepEqual(koe.plaintextFromAnswers(r, { plan: 'no' }), [[0, 1]]);
  const b = manifest('budget');
  rejects(b, { projects: [] }, 'count', 'question "projects": 0 options chosen, allowed 1 to 4');
  const e = (() => { try { koe.plaintextFromAnswers(b, { projects: ['wifi', 'kids-space', 'elder-cafe', 'bike-lanes', 'park-lights'] }); } catch (x) { return x; } })();
  assert.equal(e.text.ja, '「実施してほしい事業を1つ以上4つまで選んでください」: 5つ選ばれています。1つ以上4つまで選んでください');
  assert.equal(e.text.en, '"Choose between 1 and 4 projects you want carried out": 5 chosen; choose between 1 and 4');
});

test('manifest checks and ballot sizes', () => {
  assert.throws(() => koe.parseManifest('{"spec":"koe/v2"}'));
  const b = manifest('budget');
  // 10 selections in [0,1] + a total in [1,4]: 68 + 10·(64+256) + 512.
  assert.equal(koe.ballotSize(koe.ballotStyle(b)), 68 + 10 * 320 + 512);
});

test('privacyThreshold: 1 to 1000000 when present, as in Go', () => {
  const text = readFileSync(`${root}examples/referendum.json`, 'utf8');
  const withP = (v) => text.replace('"questions"', `"privacyThreshold": ${v}, "questions"`);
  for (const ok of ['1', '10', '1000000']) assert.equal(koe.parseManifest(withP(ok)).privacyThreshold, Number(ok));
  for (const bad of ['0', '-1', '1000001', '"10"']) assert.throws(() => koe.parseManifest(withP(bad)), /privacyThreshold/);
  // A fraction or a null is refused by the strict JSON decoder already.
  for (const bad of ['2.5', 'null']) assert.throws(() => koe.parseManifest(withP(bad)), /privacyThreshold|fraction|null/);
});

test('tracking code text and base64 are strict', () => {
  assert.throws(() => koe.base64Decode('YQ'));
  assert.throws(() => koe.base64Decode('YR=='));
  assert.equal(koe.base64Encode(new Uint8Array([97])), 'YQ==');
  assert.throws(() => koe.fromHex('AB'));
  assert.throws(() => koe.decodeScalar(koe.encodeScalar(0n).fill(0xff)));
});
