// The booth decodes server and board messages as strictly as Go's
// internal/strictjson (SPEC.md §2.3): no null, no duplicate keys, valid
// UTF-8, no unknown fields, canonical base64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as koe from '../src/koe.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const enc = new TextEncoder();

test('parseStrictJSON accepts what SPEC §2.3 allows', () => {
  assert.deepEqual(koe.parseStrictJSON(' {"a":[1,-2,true,false,"x\\u00e9\\ud83d\\ude00"],"b":{}}\r\n'), {
    a: [1, -2, true, false, 'xé😀'], b: {},
  });
  assert.deepEqual(koe.parseStrictJSON(enc.encode('"声"')), '声');
  const deep = '['.repeat(16) + ']'.repeat(16);
  assert.ok(koe.parseStrictJSON(deep));
  // __proto__ is an ordinary key, not the prototype.
  const o = koe.parseStrictJSON('{"__proto__":1}');
  assert.equal(Object.getPrototypeOf(o), Object.prototype);
  assert.deepEqual(Object.keys(o), ['__proto__']);
});

test('parseStrictJSON refuses what Go refuses, and says why', () => {
  const bad = {
    'null value': '{"a":null}',
    'null element': '[1,null]',
    'null document': 'null',
    'duplicate key': '{"a":1,"a":2}',
    'nested duplicate key': '{"a":{"b":1,"b":1}}',
    'trailing data': '{} {}',
    'trailing comma': '[1,]',
    'single quotes': "{'a':1}",
    'fraction': '{"n":1.0}',
    'exponent': '{"n":1e0}',
    'leading zero': '{"n":01}',
    'minus zero': '{"n":-0}',
    'huge integer': '{"n":9007199254740993}',
    'NaN': '{"n":NaN}',
    'raw control character': '"a\tb"',
    'bad escape': '"\\x41"',
    'lone surrogate': '"\\ud800"',
    'lone low surrogate': '"\\udc00x"',
    'too deep': '['.repeat(17) + ']'.repeat(17),
    'non-JSON whitespace': '\u00a0{}',
    'empty': '',
    'unterminated': '{"a":"b',
  };
  for (const [why, text] of Object.entries(bad)) {
    assert.throws(() => koe.parseStrictJSON(text), /JSON/, why);
  }
  for (const [why, bytes] of Object.entries({
    'invalid UTF-8': [0x22, 0xff, 0x22],
    'overlong UTF-8': [0x22, 0xc0, 0xaf, 0x22],
    'UTF-8 surrogate': [0x22, 0xed, 0xa0, 0x80, 0x22],
    'byte-order mark': [0xef, 0xbb, 0xbf, 0x7b, 0x7d],
  })) {
    assert.throws(() => koe.parseStrictJSON(Uint8Array.from(bytes)), /JSON/, why);
  }
});

test('API responses: exactly their fields, canonical base64', () => {
  const ok = {
    register: '{"blindSignature":"AAEC","issuance":"abababababababababababababababababababababababababababababababab"}',
    credential: '{"next":3,"last":2,"index":9}',
    'oidc-start': '{"authorizationURL":"https://id.example/auth"}',
    spoiled: '{"trackingCode":"ABCD","index":3,"answers":{"plan":"yes"}}',
    error: '{"error":"closed","message":"the election is closed"}',
  };
  for (const [kind, text] of Object.entries(ok)) assert.ok(koe.parseResponse(kind, enc.encode(text)), kind);
  const bad = [
    ['register', '{"blindSignature":"AAEC","extra":1,"issuance":"abababababababababababababababababababababababababababababababab"}', 'unknown field'],
    ['register', '{}', 'missing field'],
    ['register', '{"blindSignature":"AAEC"}', 'no issuance receipt'],
    ['register', '{"blindSignature":"AAEC","issuance":"AB"}', 'issuance not 32 bytes of hex'],
    ['credential', '{"next":1.5}', 'fraction'],
    ['credential', '{"next":2,"last":1,"index":3,"x":1}', 'unknown field'],
    ['credential', '{"last":1}', 'no next'],
    ['register', '{"blindSignature":"AAF=","issuance":"abababababababababababababababababababababababababababababababab"}', 'non-zero trailing bits'],
    ['register', '{"blindSignature":"AA\\nEC","issuance":"abababababababababababababababababababababababababababababababab"}', 'newline in base64'],
    ['register', '{"blindSignature":"AAEC","blindSignature":"AAEC","issuance":"abababababababababababababababababababababababababababababababab"}', 'duplicate key'],
    ['register', '{"blindSignature":null,"issuance":"abababababababababababababababababababababababababababababababab"}', 'null'],
    ['register', '{"BlindSignature":"AAEC","issuance":"abababababababababababababababababababababababababababababababab"}', 'key in another case'],
    ['oidc-start', '{"authorizationURL":1}', 'not a string'],
    ['spoiled', '{"trackingCode":"A","index":-1,"answers":{}}', 'negative index'],
    ['spoiled', '{"trackingCode":"A","index":1,"answers":null}', 'null answers'],
    ['cast', '{"trackingCode":"A","receipt":{"election":"e"}}', 'receipt missing fields'],
    ['error', '{"error":"closed"}', 'no message'],
  ];
  for (const [kind, text, why] of bad) assert.throws(() => koe.parseResponse(kind, enc.encode(text)), undefined, why);
});

test('board messages: manifests, envelopes, spoiled ballots and entries are strict', async () => {
  const dir = `${root}testdata/vectors/server-record/`;
  const manifest = readFileSync(`${dir}manifest.json`);
  assert.ok(koe.parseManifest(manifest));
  const text = manifest.toString('utf8');
  for (const [why, doctored] of [
    ['null description', text.replace('"description": {', '"description": null, "x": {')],
    ['duplicate id', text.replace('"id": "', '"id": "dup", "id": "')],
    ['invalid UTF-8', null],
  ]) {
    const bytes = doctored === null ? Uint8Array.from([...manifest.subarray(0, 20), 0xff, ...manifest.subarray(20)]) : enc.encode(doctored);
    assert.throws(() => koe.parseManifest(bytes), /manifest/, why);
  }
  const spoiled = readFileSync(`${dir}spoiled.jsonl`, 'utf8').split('\n').filter((l) => l.trim())[0];
  const s = JSON.parse(spoiled);
  for (const [why, doctored] of [
    ['unknown field', JSON.stringify({ ...s, extra: 1 })],
    ['missing nonces', JSON.stringify({ ballot: s.ballot, values: s.values })],
    ['null values', spoiled.replace(/"values":\[[^\]]*\](,|\])*/, '"values":null,')],
    ['duplicate ballot', spoiled.replace('{"ballot":', `{"ballot":"${s.ballot}","ballot":`)],
  ]) {
    assert.throws(() => koe.checkSpoiled({}, doctored), undefined, why);
  }
});

// A fuzz target run for a fixed number of random mutations of valid
// documents: whatever parseStrictJSON accepts, JSON.parse accepts with the
// same value, and it never holds null; it never throws anything but its
// own Error.
test('parseStrictJSON fuzz: a subset of JSON.parse, never null', () => {
  const seeds = ['{"a":[1,2,{"b":"c"}],"d":true}', '[{"x":-12,"y":"\\u00e9"}]', '{"ballot":"AAEC","counter":7}'];
  const alphabet = '{}[]":,.-+eE0123456789abnlu\\ \t\r\n\u00e9\ud800';
  let state = 0x9e3779b9;
  const rand = (n) => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state % n;
  };
  const hasNull = (v) => v === null || (typeof v === 'object' && Object.values(v).some(hasNull));
  for (let k = 0; k < 20000; k++) {
    let s = seeds[rand(seeds.length)];
    for (let m = rand(4) + 1; m > 0; m--) {
      const at = rand(s.length + 1);
      const op = rand(3);
      const c = alphabet[rand(alphabet.length)];
      s = op === 0 ? s.slice(0, at) + c + s.slice(at) : op === 1 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + c + s.slice(at + 1);
    }
    let v;
    try {
      v = koe.parseStrictJSON(s);
    } catch (e) {
      assert.match(e.message, /^JSON: /, s);
      continue;
    }
    assert.deepEqual(v, JSON.parse(s), s);
    assert.ok(!hasNull(v), s);
  }
});
