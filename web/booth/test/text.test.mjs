// Manifest labels in further languages (SPEC.md §7.1): accepted by the
// booth as by Go's ballot.ParseManifest, and shown by tag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as koe from '../src/koe.js';

const enc = new TextEncoder();
const manifest = (title) => enc.encode(JSON.stringify({
  spec: 'koe/v2', id: 't', kind: 'survey', title, trustees: 3, threshold: 2,
  questions: [{ id: 'q1', kind: 'single', label: { ja: '問1', ko: '문1' }, options: [{ id: 'a', label: { ja: 'あ' } }, { id: 'b', label: { ja: 'い' } }] }],
}));

test('labels in other BCP 47 tags are accepted', () => {
  const m = koe.parseManifest(manifest({ ja: '市民意識調査', en: 'Survey', 'zh-Hans': '市民意识调查', ko: '시민 의식 조사', 'ja-x-easy': 'しみんの アンケート', 'pt-BR': 'Pesquisa' }));
  assert.equal(m.title['zh-Hans'], '市民意识调查');
});

test('bad label tags are refused', () => {
  for (const [title, want] of [
    [{ ja: 'a', 'zh-hans': 'x' }, /canonical/],
    [{ ja: 'a', 'not a tag': 'x' }, /BCP 47/],
    [{ ja: 'a', ko: '' }, /empty/],
    [{ ja: 'a', ko: 1 }, /not a string/],
    [{ en: 'a', ko: 'x' }, /missing/],
  ]) {
    assert.throws(() => koe.parseManifest(manifest(title)), want, JSON.stringify(title));
  }
});
