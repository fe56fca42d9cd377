// koe booth cryptography — the voter's device side of koe/v2 (SPEC.md).
//
// An ES module of plain functions (no global state) on:
//   - @noble/curves  — ristretto255 (RFC 9496) for ElGamal and the range proofs,
//                       Ed25519 (RFC 8032) for the voter's credential key;
//   - @noble/hashes  — SHA-256/SHA-512 transcripts (SPEC §3), SHAKE256 for the
//                       test-vector randomness (testdata/vectors/README.md);
//   - @cloudflare/blindrsa-ts — RFC 9474 RSABSSA-SHA384-PSS-Randomized (SPEC §14).
//
// Why not Go→WASM of koe's own packages: a WASM build of them measured
// 5.4 MB raw / 1.54 MB gzipped, over the booth's 1 MB budget; this module
// bundles to a small fraction of that (see web/booth/README.md). Its
// correctness is pinned by the same testdata/vectors the Go implementation
// passes (web/booth/test/).
//
// Side channels: JavaScript BigInt arithmetic is not constant-time, and
// neither is anything built on it here. What is at stake is a ballot's
// nonces (per ballot, used once) and the credential key, computed on the
// voter's own device; an attacker who can time that device's CPU precisely
// can usually read its screen too.

import { ristretto255, ed25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import * as mixed from './mixed.js';

const Point = ristretto255.Point;

/** The ristretto255 group order ℓ. */
export const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const P25519 = (1n << 255n) - 19n;
const enc = new TextEncoder();

// ---------------------------------------------------------------------------
// Bytes: hex, base64, base32, little-endian integers

/** Lowercase hex of bytes. */
export function toHex(b) {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Decodes lowercase hex strictly; if n is given, exactly n bytes. */
export function fromHex(s, n) {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) {
    throw new Error('not lowercase hexadecimal');
  }
  if (n !== undefined && s.length !== 2 * n) throw new Error(`hex is ${s.length / 2} bytes, want ${n}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// ---------------------------------------------------------------------------
// Strict JSON (SPEC §2.3), as internal/strictjson decodes it in Go.

const MAX_DEPTH = 16;

/**
 * Parses one JSON value strictly (SPEC §2.3) from bytes (UTF-8) or a
 * string: the bytes must be valid UTF-8 (a byte-order mark is an error, not
 * skipped); nothing but JSON whitespace (space, tab, CR, LF) around the one
 * value; no `null` anywhere; no duplicate key in any object; arrays and
 * objects nested at most 16 deep; numbers are integers without fraction or
 * exponent (every number in koe's messages is) within ±(2^53 − 1), `-0`
 * excluded; strings with no raw control characters and no lone surrogate
 * escapes. Objects come back as plain objects whose key order is the
 * document's. Throws an Error saying what is wrong and where.
 */
export function parseStrictJSON(input) {
  let text = input;
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch {
      throw new Error('JSON: not valid UTF-8');
    }
  }
  if (typeof text !== 'string') throw new Error('JSON: not text');
  let i = 0;
  const fail = (msg) => {
    throw new Error(`JSON: ${msg} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const str = () => {
    // text[i] is '"'
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in a string');
      if (c === 0x5c) {
        const e = text[i + 1];
        const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e in simple) {
          out += simple[e];
          i += 2;
          continue;
        }
        if (e !== 'u') fail('bad escape in a string');
        const unit = (at) => {
          const h = text.slice(at, at + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
          return parseInt(h, 16);
        };
        const u = unit(i + 2);
        i += 6;
        if (u >= 0xd800 && u <= 0xdbff) {
          if (text[i] !== '\\' || text[i + 1] !== 'u') fail('lone surrogate escape');
          const l = unit(i + 2);
          if (l < 0xdc00 || l > 0xdfff) fail('lone surrogate escape');
          out += String.fromCharCode(u, l);
          i += 6;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
          fail('lone surrogate escape');
        } else {
          out += String.fromCharCode(u);
        }
        continue;
      }
      out += text[i];
      i++;
    }
  };
  const value = (depth) => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} deep`);
      i++;
      ws();
      if (c === '[') {
        const arr = [];
        if (text[i] === ']') {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(value(depth + 1));
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === ']') {
            i++;
            return arr;
          } else fail('expected , or ]');
        }
      }
      const obj = {};
      const seen = new Set();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = str();
        if (seen.has(k)) fail(`duplicate key "${k}"`);
        seen.add(k);
        ws();
        if (text[i] !== ':') fail('expected :');
        i++;
        const v = value(depth + 1);
        Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail('expected , or }');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) fail('null is not allowed');
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-') fail('not a JSON value');
    if (m[2] !== undefined || m[3] !== undefined) fail('a number with a fraction or exponent');
    if (m[0] === '-0') fail('-0 is not allowed');
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) fail('an integer beyond ±(2^53 − 1)');
    i += m[0].length;
    return n;
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('data after the JSON value');
  return v;
}

/**
 * Checks that obj is a JSON object with exactly the required keys and
 * possibly some of the optional ones, as Go's strictjson decodes a struct
 * (SPEC §2.3: unknown keys are errors; every field not marked optional is
 * required). Returns obj.
 */
export function checkObject(obj, required, optional = [], what = 'object') {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`${what}: not a JSON object`);
  for (const k of Object.keys(obj)) {
    if (!required.includes(k) && !optional.includes(k)) throw new Error(`${what}: unknown field "${k}"`);
  }
  for (const k of required) if (!Object.hasOwn(obj, k)) throw new Error(`${what}: field "${k}" is missing`);
  return obj;
}

const isInt = (v) => Number.isSafeInteger(v) && v >= 0;

/**
 * Parses a response of koe's API (SPEC §15) that the booth reads, strictly:
 * kind is 'register' ({blindSignature}), 'oidc-start' ({authorizationURL}),
 * 'spoiled' ({trackingCode, index, answers}), 'cast' ({trackingCode,
 * receipt}) or 'error' ({error, message}). Byte strings are canonical
 * base64; the receipt's fields are checked by verifyReceipt.
 */
export function parseResponse(kind, bytes) {
  const m = parseStrictJSON(bytes);
  switch (kind) {
    case 'register':
      checkObject(m, ['blindSignature', 'issuance'], [], 'registration');
      base64Decode(m.blindSignature);
      fromHex(m.issuance, 32);
      return m;
    case 'credential':
      // GET /credentials/{vk} (SPEC.md §15.4): {next} or {next, last, index}.
      checkObject(m, ['next'], ['last', 'index'], 'credential state');
      if (!isInt(m.next) || (m.last !== undefined && !isInt(m.last)) || (m.index !== undefined && !isInt(m.index))) {
        throw new Error('credential state: next, last and index must be integers');
      }
      return m;
    case 'oidc-start':
      checkObject(m, ['authorizationURL'], [], 'digital ID start');
      if (typeof m.authorizationURL !== 'string') throw new Error('digital ID start: authorizationURL is not a string');
      return m;
    case 'spoiled':
      checkObject(m, ['trackingCode', 'index', 'answers'], [], 'challenge');
      if (typeof m.trackingCode !== 'string' || !isInt(m.index)) throw new Error('challenge: bad trackingCode or index');
      checkObject(m.answers, Object.keys(m.answers ?? {}), [], 'challenge answers');
      return m;
    case 'cast':
      checkObject(m, ['trackingCode', 'receipt'], [], 'cast');
      if (typeof m.trackingCode !== 'string') throw new Error('cast: trackingCode is not a string');
      checkObject(m.receipt, ['election', 'tracking', 'index', 'leafHash', 'proof', 'checkpoint'], [], 'receipt');
      return m;
    case 'error':
      checkObject(m, ['error', 'message'], [], 'error');
      if (typeof m.error !== 'string' || typeof m.message !== 'string') throw new Error('error: fields are not strings');
      return m;
    default:
      throw new Error(`parseResponse: unknown kind ${kind}`);
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function b64encode(b, alphabet, pad) {
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((b.length - i) * 8) / 6));
    for (let k = 0; k < chars; k++) s += alphabet[(n >> (18 - 6 * k)) & 63];
    if (pad) s += '='.repeat(4 - chars);
  }
  return s;
}

function b64decode(s, alphabet, pad) {
  if (typeof s !== 'string') throw new Error('base64: not a string');
  let body = s;
  if (pad) {
    if (s.length % 4 !== 0) throw new Error('base64: bad length');
    body = s.replace(/={1,2}$/, '');
  }
  if (body.length % 4 === 1) throw new Error('base64: bad length');
  const out = new Uint8Array(Math.floor((body.length * 6) / 8));
  let acc = 0, bits = 0, j = 0;
  for (const ch of body) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error('base64: bad character');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new Error('base64: non-canonical trailing bits');
  if (b64encode(out, alphabet, pad) !== s) throw new Error('base64: non-canonical encoding');
  return out;
}

/** Standard padded base64 (RFC 4648 §4), as in koe's JSON messages. */
export const base64Encode = (b) => b64encode(b, B64, true);
/** Decodes canonical standard padded base64 strictly. */
export const base64Decode = (s) => b64decode(s, B64, true);
/** Unpadded base64url (RFC 4648 §5). */
export const base64urlEncode = (b) => b64encode(b, B64URL, false);
/** Decodes canonical unpadded base64url strictly. */
export const base64urlDecode = (s) => b64decode(s, B64URL, false);

function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** LE(b): bytes as an unsigned little-endian integer. */
export function leToBigInt(b) {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
  return x;
}

function u32be(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function u64be(v) {
  const x = BigInt(v);
  if (x < 0n || x >= 1n << 64n) throw new RangeError('uint64 out of range');
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, x);
  return b;
}

// ---------------------------------------------------------------------------
// Group: ristretto255 elements and scalars (SPEC §2)

/** enc(s): a scalar as 32 little-endian bytes. */
export function encodeScalar(s) {
  let x = mod(s);
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}

/** DecodeScalar: exactly 32 bytes, LE(b) < ℓ. */
export function decodeScalar(b) {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new Error('scalar is not 32 bytes');
  const x = leToBigInt(b);
  if (x >= L) throw new Error('non-canonical scalar');
  return x;
}

/** LE(b) mod ℓ: the wide reduction of challenges and random scalars (64 bytes). */
export function scalarFromUniformBytes(b) {
  if (b.length !== 64) throw new Error('uniform bytes must be 64 bytes');
  return leToBigInt(b) % L;
}

function mod(x) {
  const r = x % L;
  return r < 0n ? r + L : r;
}

/** enc(P): the 32-byte canonical encoding of an element. */
export function encodeElement(P) {
  return P.toBytes();
}

/**
 * DecodeElement (SPEC §2.1): exactly 32 bytes, LE(b) < 2^255 − 19, even, and
 * the RFC 9496 decoding succeeds. The identity is accepted.
 */
export function decodeElement(b) {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new Error('element is not 32 bytes');
  const s = leToBigInt(b);
  if (s >= P25519 || (s & 1n) === 1n) throw new Error('non-canonical element');
  let P;
  try {
    P = Point.fromBytes(b);
  } catch {
    throw new Error('non-canonical element');
  }
  if (!bytesEqual(P.toBytes(), b)) throw new Error('non-canonical element');
  return P;
}

/** DecodePublicKey (SPEC §2.1): DecodeElement, not the identity. */
export function decodePublicKey(b) {
  const P = decodeElement(b);
  if (P.is0()) throw new Error('public key is the identity');
  return P;
}

/** The generator G and the identity. */
export const generator = () => Point.BASE;
export const identity = () => Point.ZERO;

// s·P for a secret scalar (noble's constant-shape ladder; 0 allowed).
function mulSecret(P, s) {
  s = mod(s);
  return s === 0n ? Point.ZERO : P.multiply(s);
}
// s·P for a public scalar (variable time).
function mulPublic(P, s) {
  return P.multiplyUnsafe(mod(s));
}

// ---------------------------------------------------------------------------
// Transcripts (SPEC §3)

/**
 * A framed transcript: transcript("koe/v2/…").bytes(label, b).uint64(label, v)…
 * then .challenge() (H512 → scalar), .sha512(), .digest() (H256) or .input().
 */
export function transcript(domain) {
  if (typeof domain !== 'string' || !domain.startsWith('koe/v2/') || domain.length <= 7) {
    throw new Error('transcript domain must start with koe/v2/');
  }
  const parts = [];
  const frame = (b) => {
    parts.push(u32be(b.length), b);
  };
  frame(enc.encode(domain));
  const t = {
    bytes(label, b) {
      frame(enc.encode(label));
      frame(b);
      return t;
    },
    string(label, s) {
      return t.bytes(label, enc.encode(s));
    },
    element(label, P) {
      return t.bytes(label, P.toBytes());
    },
    scalar(label, s) {
      return t.bytes(label, encodeScalar(s));
    },
    uint64(label, v) {
      return t.bytes(label, u64be(v));
    },
    input: () => concat(...parts),
    sha512: () => sha512(concat(...parts)),
    challenge: () => scalarFromUniformBytes(sha512(concat(...parts))),
    digest: () => sha256(concat(...parts)),
  };
  return t;
}

// ---------------------------------------------------------------------------
// Randomness

/**
 * The default randomness source: crypto.getRandomValues. A source is a
 * function (n) → Uint8Array of n fresh bytes; a random scalar takes 64 bytes
 * (SPEC §2.2).
 */
export function cryptoRandom() {
  return (n) => {
    const b = new Uint8Array(n);
    for (let o = 0; o < n; o += 65536) crypto.getRandomValues(b.subarray(o, Math.min(n, o + 65536)));
    return b;
  };
}

/**
 * The test-vector randomness source: the SHAKE256(seed) output stream, read
 * in order (testdata/vectors/README.md). Never use it for real ballots.
 */
export function shakeRandom(seed) {
  const h = shake256.create({}).update(typeof seed === 'string' ? enc.encode(seed) : seed);
  return (n) => h.xof(n);
}

/** A random scalar: LE(64 bytes) mod ℓ. */
export function randomScalar(rng = cryptoRandom()) {
  return scalarFromUniformBytes(rng(64));
}

// ---------------------------------------------------------------------------
// Exponential ElGamal (SPEC §5)

/** (A, B) = (r·G, m·G + r·K). */
export function encrypt(K, m, r) {
  const A = mulSecret(Point.BASE, r);
  const B = mulSecret(Point.BASE, BigInt(m)).add(mulSecret(K, r));
  return { A, B };
}

/** enc(A) ‖ enc(B). */
export function encodeCiphertext(ct) {
  return concat(ct.A.toBytes(), ct.B.toBytes());
}

/** Decodes 64 bytes as a ciphertext (both halves by DecodeElement). */
export function decodeCiphertext(b) {
  if (!(b instanceof Uint8Array) || b.length !== 64) throw new Error('ciphertext is not 64 bytes');
  return { A: decodeElement(b.subarray(0, 32)), B: decodeElement(b.subarray(32, 64)) };
}

/** Whether (A, B) opens to (m, r) under K. */
export function opens(K, ct, m, r) {
  const c = encrypt(K, m, r);
  return c.A.equals(ct.A) && c.B.equals(ct.B);
}

// ---------------------------------------------------------------------------
// Range proofs (SPEC §4.3)

function checkRange(lo, hi) {
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo < 0 || lo > hi || hi - lo >= 256) {
    throw new Error(`range [${lo}, ${hi}] is not allowed`);
  }
}

function rangeChallenge(st, U, V) {
  const t = transcript('koe/v2/proof/range')
    .bytes('context', st.context)
    .element('K', st.K)
    .element('A', st.A)
    .element('B', st.B)
    .uint64('lo', st.lo)
    .uint64('hi', st.hi);
  for (let i = 0; i < U.length; i++) t.element('U', U[i]).element('V', V[i]);
  return t.challenge();
}

/** The size of a range proof over [lo, hi]: 128·(hi − lo + 1). */
export const rangeProofSize = (lo, hi) => 128 * (hi - lo + 1);

/**
 * Proves that st = {context, K, A, B, lo, hi} encrypts m ∈ [lo, hi] with
 * nonce r. Draws its scalars from rng in the order of
 * testdata/vectors/README.md.
 */
export function proveRange(st, m, r, rng = cryptoRandom()) {
  const { lo, hi } = st;
  checkRange(lo, hi);
  if (!Number.isSafeInteger(m) || m < lo || m > hi) throw new Error(`cannot prove ${m} in [${lo}, ${hi}]`);
  const n = hi - lo + 1;
  const U = new Array(n), V = new Array(n), c = new Array(n), s = new Array(n);
  let w;
  for (let i = 0; i < n; i++) {
    const j = lo + i;
    if (j === m) {
      w = randomScalar(rng);
      U[i] = mulSecret(Point.BASE, w);
      V[i] = mulSecret(st.K, w);
    } else {
      c[i] = randomScalar(rng);
      s[i] = randomScalar(rng);
      const Bj = st.B.subtract(mulPublic(Point.BASE, BigInt(j)));
      U[i] = mulPublic(Point.BASE, s[i]).subtract(mulPublic(st.A, c[i]));
      V[i] = mulPublic(st.K, s[i]).subtract(mulPublic(Bj, c[i]));
    }
  }
  const ch = rangeChallenge(st, U, V);
  const im = m - lo;
  let cm = ch;
  for (let i = 0; i < n; i++) if (i !== im) cm -= c[i];
  c[im] = mod(cm);
  s[im] = mod(w + c[im] * mod(r));
  const out = new Uint8Array(128 * n);
  for (let i = 0; i < n; i++) {
    out.set(U[i].toBytes(), 128 * i);
    out.set(V[i].toBytes(), 128 * i + 32);
    out.set(encodeScalar(c[i]), 128 * i + 64);
    out.set(encodeScalar(s[i]), 128 * i + 96);
  }
  return out;
}

/** Decodes a range proof over [lo, hi] into its branches; throws if malformed. */
export function decodeRangeProof(b, lo, hi) {
  checkRange(lo, hi);
  const n = hi - lo + 1;
  if (!(b instanceof Uint8Array) || b.length !== 128 * n) throw new Error(`range proof is not ${128 * n} bytes`);
  const br = [];
  for (let i = 0; i < n; i++) {
    const o = 128 * i;
    br.push({
      U: decodeElement(b.subarray(o, o + 32)),
      V: decodeElement(b.subarray(o + 32, o + 64)),
      c: decodeScalar(b.subarray(o + 64, o + 96)),
      s: decodeScalar(b.subarray(o + 96, o + 128)),
    });
  }
  return br;
}

/**
 * Verifies a range proof (unbatched, every equation on its own). Throws an
 * Error saying what failed; returns true otherwise.
 */
export function verifyRange(st, proof) {
  const { lo, hi } = st;
  const br = decodeRangeProof(proof, lo, hi);
  const ch = rangeChallenge(st, br.map((x) => x.U), br.map((x) => x.V));
  let sum = 0n;
  for (const x of br) sum += x.c;
  if (mod(sum) !== ch) throw new Error('range proof: the challenges do not sum to the hash');
  for (let i = 0; i < br.length; i++) {
    const { U, V, c, s } = br[i];
    const j = BigInt(lo + i);
    if (!mulPublic(Point.BASE, s).equals(U.add(mulPublic(st.A, c)))) {
      throw new Error(`range proof: branch ${i + 1} fails s·G = U + c·A`);
    }
    const Bj = st.B.subtract(mulPublic(Point.BASE, j));
    if (!mulPublic(st.K, s).equals(V.add(mulPublic(Bj, c)))) {
      throw new Error(`range proof: branch ${i + 1} fails s·K = V + c·(B − j·G)`);
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Manifest, election, ballot style (SPEC §7, §8.1)

const ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const utf8Len = (s) => enc.encode(s).length;

/** h_M = H256("koe/v2/manifest"; Bytes("manifest", bytes)) over the exact bytes. */
export function manifestHash(manifestBytes) {
  return transcript('koe/v2/manifest').bytes('manifest', toBytes(manifestBytes)).digest();
}

/** ctx = H256("koe/v2/election"; Bytes("manifest", h_M), Element("key", K)). */
export function electionContext(hM, K, registrarId) {
  const Kp = K instanceof Uint8Array ? decodePublicKey(K) : K;
  if (Kp.is0()) throw new Error('election key is the identity');
  const id = typeof registrarId === 'string' ? fromHex(registrarId, 32) : registrarId;
  if (!(id instanceof Uint8Array) || id.length !== 32) throw new Error('registrar key id must be 32 bytes');
  return transcript('koe/v2/election').bytes('manifest', hM).element('key', Kp).bytes('registrar', id).digest();
}

function toBytes(x) {
  if (x instanceof Uint8Array) return x;
  if (typeof x === 'string') return enc.encode(x);
  throw new Error('expected bytes or a string');
}

// rfc3339 parses an RFC 3339 date-time as Go's time.Parse(time.RFC3339)
// does (upper-case T and Z, optional fractional seconds, a valid date and
// time, an offset below 24 hours) and returns it in nanoseconds since the
// epoch, as a BigInt.
function rfc3339(v, what, bad) {
  const m = typeof v === 'string' && /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/.exec(v);
  if (!m) bad(`${what}: ${JSON.stringify(v)} is not an RFC 3339 time like 2026-12-01T09:00:00+09:00`);
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  if (mo < 1 || mo > 12 || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) {
    bad(`${what}: ${v} is not a valid date and time`);
  }
  let offset = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]), om = Number(m[11]);
    if (oh > 23 || om > 59) bad(`${what}: ${v} has an invalid time zone offset`);
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60;
  }
  dt.setUTCHours(h, mi, sec, 0);
  const frac = BigInt((m[7] ?? '.').slice(1).padEnd(9, '0'));
  return (BigInt(dt.getTime() / 1000) - BigInt(offset)) * 1000000000n + frac;
}

/**
 * Parses and checks a manifest (SPEC §7.2) from its exact bytes (or text).
 * The checks cover what the booth relies on; the JSON is parsed strictly
 * (parseStrictJSON: no null, no duplicate keys, valid UTF-8) as the server
 * decodes it.
 */
export function parseManifest(manifestBytes) {
  const bytes = toBytes(manifestBytes);
  if (bytes.length > 1 << 20) throw new Error('manifest: larger than 1 MiB');
  let m;
  try {
    m = parseStrictJSON(bytes);
  } catch (e) {
    throw new Error(`manifest: ${e.message}`);
  }
  const bad = (msg) => {
    throw new Error(`manifest: ${msg}`);
  };
  // fields checks obj's keys as Go's strictjson does (SPEC §2.3): only
  // the listed fields, and every one not optional present.
  const fields = (obj, required, optional, what) => {
    try {
      checkObject(obj, required, optional, what);
    } catch (e) {
      bad(e.message);
    }
  };
  const text = (t, what, optional) => {
    if (t === undefined || t === null) {
      if (!optional) bad(`${what} is missing`);
      return;
    }
    if (typeof t !== 'object' || Array.isArray(t)) bad(`${what} is not a text`);
    // SPEC.md §7.1: ja required; en and other BCP 47 tags (canonical
    // form) optional, each a non-empty string except en; at most 32.
    const tags = Object.keys(t);
    fields(t, ['ja'], tags.filter((k) => k !== 'ja'), what);
    if (typeof t.ja !== 'string' || t.ja === '') bad(`${what} has no Japanese text`);
    if (t.en !== undefined && typeof t.en !== 'string') bad(`${what}: en is not a string`);
    if (tags.length > 32) bad(`${what} has labels in ${tags.length} languages, limit 32`);
    for (const k of tags) {
      if (k === 'ja' || k === 'en') continue;
      let canon;
      try {
        canon = Intl.getCanonicalLocales(k)[0];
      } catch {
        bad(`${what}: ${JSON.stringify(k)} is not a BCP 47 language tag`);
      }
      if (canon !== k) bad(`${what}: language tag ${JSON.stringify(k)} is not in canonical form`);
      if (typeof t[k] !== 'string' || t[k] === '') bad(`${what}: ${k} label is empty or not a string`);
    }
    for (const k of tags) {
      if (typeof t[k] === 'string' && utf8Len(t[k]) > 2000) bad(`${what} is longer than 2000 bytes`);
    }
  };
  const int = (v, what) => {
    if (v === undefined || v === null) return 0;
    if (!Number.isSafeInteger(v)) bad(`${what} is not an integer`);
    return v;
  };
  if (typeof m !== 'object' || m === null || Array.isArray(m)) bad('not a JSON object');
  fields(m, ['spec', 'id', 'kind', 'title', 'trustees', 'threshold', 'questions'], ['description', 'opens', 'closes', 'privacyThreshold', 'board'], 'manifest');
  if (m.spec !== 'koe/v2') bad('spec is not "koe/v2"');
  if (typeof m.id !== 'string' || !ID_RE.test(m.id)) bad('bad id');
  if (m.kind !== 'vote' && m.kind !== 'survey') bad('kind is not "vote" or "survey"');
  text(m.title, 'title');
  text(m.description, 'description', true);
  const opens = m.opens === undefined ? null : rfc3339(m.opens, 'opens', bad);
  const closes = m.closes === undefined ? null : rfc3339(m.closes, 'closes', bad);
  if (opens !== null && closes !== null && closes <= opens) bad(`closes (${m.closes}) is not after opens (${m.opens})`);
  const n = int(m.trustees, 'trustees'), t = int(m.threshold, 'threshold');
  if (n < 1 || n > 64 || t < 1 || t > n) bad('trustees/threshold out of range');
  if (m.privacyThreshold !== undefined) {
    const p = int(m.privacyThreshold, 'privacyThreshold');
    if (m.privacyThreshold === null || p < 1 || p > 1000000) bad('privacyThreshold out of range (1..1000000)');
  }
  if (!Array.isArray(m.questions) || m.questions.length < 1 || m.questions.length > 64) bad('needs 1 to 64 questions');
  const ids = new Set();
  let selections = 0;
  m.questions.forEach((q, qi) => {
    const what = `question ${qi + 1}`;
    if (typeof q !== 'object' || q === null || Array.isArray(q)) bad(`${what} is not an object`);
    fields(q, ['id', 'kind', 'label'], ['options', 'min', 'max', 'optional', 'minLabel', 'maxLabel', 'maxLength'], what);
    if (typeof q.id !== 'string' || !ID_RE.test(q.id)) bad(`${what}: bad id`);
    if (ids.has(q.id)) bad(`${what}: duplicate id "${q.id}"`);
    ids.add(q.id);
    text(q.label, `${what} label`);
    const min = int(q.min, `${what} min`), max = int(q.max, `${what} max`);
    const optional = q.optional ?? false;
    if (typeof optional !== 'boolean') bad(`${what}: optional is not a boolean`);
    const options = q.options ?? [];
    if (!Array.isArray(options)) bad(`${what}: options is not a list`);
    const maxLength = int(q.maxLength, `${what} maxLength`);
    if (q.kind !== 'text' && maxLength !== 0) bad(`${what}: maxLength only for text questions`);
    if (q.kind === 'single' || q.kind === 'multiple' || q.kind === 'rank') {
      if (options.length < 1 || options.length > 64) bad(`${what}: needs 1 to 64 options`);
      const oids = new Set();
      options.forEach((o, oi) => {
        if (typeof o !== 'object' || o === null || Array.isArray(o)) bad(`${what} option ${oi + 1} is not an object`);
        fields(o, ['id', 'label'], ['description'], `${what} option ${oi + 1}`);
        if (typeof o.id !== 'string' || !ID_RE.test(o.id) || oids.has(o.id)) bad(`${what} option ${oi + 1}: bad or duplicate id`);
        oids.add(o.id);
        text(o.label, `${what} option ${oi + 1} label`);
        text(o.description, `${what} option ${oi + 1} description`, true);
      });
      if (q.minLabel != null || q.maxLabel != null) bad(`${what}: minLabel/maxLabel only for ratings`);
      if (q.kind === 'rank') {
        if (options.length < 2) bad(`${what}: a rank question needs 2 to 64 options`);
        const k = max === 0 ? options.length : max;
        if (optional || min < 0 || max < 0 || min > k || k > options.length) bad(`${what}: bad min/max`);
      }
      if (q.kind === 'single' && (min !== 0 || max !== 0)) bad(`${what}: min/max not allowed`);
      if (q.kind === 'multiple' && (optional || min < 0 || min > max || max < 1 || max > options.length)) {
        bad(`${what}: bad min/max`);
      }
      selections += options.length;
    } else if (q.kind === 'rating') {
      if (options.length !== 0 || optional) bad(`${what}: a rating has no options and is not optional`);
      if (!(min >= 0 && min < max && max <= min + 100 && max <= 1000000)) bad(`${what}: bad rating scale`);
      text(q.minLabel, `${what} minLabel`, true);
      text(q.maxLabel, `${what} maxLabel`, true);
      selections += max - min + 1;
    } else if (q.kind === 'text') {
      if (options.length !== 0 || q.options !== undefined || min !== 0 || max !== 0 || q.minLabel != null || q.maxLabel != null) {
        bad(`${what}: bad min/max: a text question has maxLength and optional only`);
      }
      if (maxLength < 1 || maxLength > mixed.MAX_TEXT_LENGTH) bad(`${what}: maxLength out of range (1..${mixed.MAX_TEXT_LENGTH})`);
      selections += mixed.textWidth(maxLength);
    } else {
      bad(`${what}: kind "${q.kind}" is not allowed in koe/v2`);
    }
  });
  if (selections > 1024) bad('more than 1024 selections');
  if (m.board !== undefined) checkManifestBoard(m.board, m.id, bad, fields, text);
  return m;
}

const WITNESS_URL_RE = /^https?:\/\/[a-z0-9.-]+(:[1-9][0-9]{0,4})?(\/[A-Za-z0-9._~/-]*)?$/;

// checkManifestBoard checks the manifest's board object (SPEC §7.2): the
// board key of the election's origin HOST/koe/id, 1..16 witnesses with a
// name, a cosignature/v1 key and a URL, keys distinct, 1 ≤ quorum ≤ m
// (no quorum without witnesses).
function checkManifestBoard(b, id, bad, fields, text) {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) bad('board: not a JSON object');
  fields(b, ['key'], ['witnesses', 'quorum'], 'board');
  let key;
  try {
    key = parseBoardKey(b.key);
  } catch (e) {
    bad(`board key: ${e.message}`);
  }
  const suffix = '/koe/' + id;
  const host = key.name.slice(0, -suffix.length);
  if (!key.name.endsWith(suffix) || host === '' || host.includes('/')) bad(`board key: ${key.name} is not the election's origin`);
  const ws = b.witnesses;
  const q = b.quorum ?? 0;
  if (!Number.isSafeInteger(q)) bad('board quorum: not a whole number');
  if (ws !== undefined && (!Array.isArray(ws) || ws.length < 1 || ws.length > 16)) bad('board witnesses: want 1..16');
  const list = ws ?? [];
  if (list.length === 0 ? q !== 0 : q < 1 || q > list.length) bad(`board quorum ${q} of ${list.length} witnesses`);
  const names = new Set([key.name]), pubs = new Set();
  list.forEach((w, i) => {
    const what = `board witness ${i + 1}`;
    if (typeof w !== 'object' || w === null || Array.isArray(w)) bad(`${what}: not a JSON object`);
    fields(w, ['name', 'key', 'url'], [], what);
    text(w.name, `${what} name`);
    let k;
    try {
      k = parseWitnessKey(w.key);
    } catch (e) {
      bad(`${what}: ${e.message}`);
    }
    if (typeof w.url !== 'string' || w.url.length > 2000 || !WITNESS_URL_RE.test(w.url)) bad(`${what}: bad url`);
    const port = /^https?:\/\/[^/:]+:([0-9]+)/.exec(w.url);
    if (port && Number(port[1]) > 65535) bad(`${what}: port above 65535`);
    const hex = toHex(k.publicKey);
    if (names.has(k.name) || pubs.has(hex)) bad(`${what}: a key used twice`);
    names.add(k.name);
    pubs.add(hex);
  });
}

/**
 * The ballot style (SPEC §8.1): per question {selections, max, hasTotal,
 * lo, hi}.
 */
export function ballotStyle(manifest) {
  return manifest.questions.map((q) => {
    switch (q.kind) {
      case 'single':
        return { selections: q.options.length, max: 1, hasTotal: true, lo: q.optional ? 0 : 1, hi: 1 };
      case 'multiple':
        return { selections: q.options.length, max: 1, hasTotal: true, lo: q.min ?? 0, hi: q.max };
      case 'rating':
        // One-hot: a 0/1 selection per value of the scale, exactly one
        // chosen (SPEC §8.1), so the tally counts each value.
        return { selections: q.max - (q.min ?? 0) + 1, max: 1, hasTotal: true, lo: 1, hi: 1, rating: q.id };
      case 'text':
        return { selections: mixed.textWidth(q.maxLength), max: 0, hasTotal: false, lo: 0, hi: 0, mixed: true, question: q };
      case 'rank':
        return { selections: q.options.length, max: mixed.rankMax(q), hasTotal: false, lo: 0, hi: 0, mixed: true, question: q };
      default:
        throw new Error(`question kind ${q.kind} has no ballot style`);
    }
  });
}

/** The encoded size of every ballot of a style (SPEC §8.2). */
export function ballotSize(style) {
  let size = 68;
  for (const qs of style) {
    if (qs.mixed) {
      size += qs.selections * 128;
      continue;
    }
    size += qs.selections * (64 + rangeProofSize(0, qs.max));
    if (qs.hasTotal) size += rangeProofSize(qs.lo, qs.hi);
  }
  return size;
}

/**
 * Everything a ballot is bound to, from the manifest's exact bytes, the
 * joint key K (32 bytes or hex) and the registrar key's id (32 bytes or
 * hex, SPEC §7.4; importRegistrarKey gives it as keyId): {manifest,
 * manifestBytes, manifestHash, K, context, style, size}. Compare `context`
 * with the server's election.json.
 */
export function election(manifestBytes, K, registrarId) {
  const bytes = toBytes(manifestBytes);
  const manifest = parseManifest(bytes);
  const Kp = decodePublicKey(typeof K === 'string' ? fromHex(K, 32) : K);
  // K is multiplied several times per selection: cache its wNAF table.
  Kp.precompute(8, false);
  const hM = manifestHash(bytes);
  const style = ballotStyle(manifest);
  return {
    manifest, manifestBytes: bytes, manifestHash: hM, K: Kp,
    context: electionContext(hM, Kp, registrarId), style, size: ballotSize(style),
  };
}

// ---------------------------------------------------------------------------
// Answers → plaintext (SPEC §8.1), with messages in Japanese and English

/**
 * An answer that does not satisfy its question. `message` is the English
 * text of the Go implementation (question ids); `text.ja` / `text.en` name
 * the question by its label, for voters; `code` is stable.
 */
export class AnswerError extends Error {
  constructor(code, question, message, ja, en) {
    super(message);
    this.name = 'AnswerError';
    this.code = code;
    this.question = question;
    this.text = { ja, en };
  }
}

const labelIn = (t, lang) => (t ? t[lang] || (lang.startsWith('ja') ? t.ja : t.en || t.ja) : '');

/**
 * Parses answers from their JSON text strictly (SPEC §8.1, §2.3: no null,
 * no duplicate question id, integers only). Throws AnswerError with code
 * 'json'.
 */
export function parseAnswers(text) {
  let a;
  try {
    a = parseStrictJSON(text);
  } catch (e) {
    throw new AnswerError('json', null, `answers: ${e.message}`, '回答の形式が正しくありません', 'The answers are malformed');
  }
  if (typeof a !== 'object' || a === null || Array.isArray(a)) {
    throw new AnswerError('json', null, 'answers: not a JSON object', '回答の形式が正しくありません', 'The answers are malformed');
  }
  return a;
}

/**
 * Turns answers (question id → option id | [option ids] | number; a
 * question is skipped only by leaving it out, never by null) into selection
 * values values[q][s], checking every rule. Throws AnswerError.
 */
export function plaintextFromAnswers(manifest, answers) {
  answers = answers ?? {};
  if (typeof answers !== 'object' || Array.isArray(answers)) {
    throw new AnswerError('malformed', null, 'answers: not a JSON object', '回答の形式が正しくありません', 'The answers are malformed');
  }
  const qids = new Set(manifest.questions.map((q) => q.id));
  for (const id of Object.keys(answers)) {
    if (!qids.has(id)) {
      throw new AnswerError('unknown-question', id, `answer to unknown question ${JSON.stringify(id)}`,
        `存在しない質問「${id}」への回答があります`, `There is an answer to an unknown question "${id}"`);
    }
  }
  const pt = [];
  for (const q of manifest.questions) {
    let v = Object.prototype.hasOwnProperty.call(answers, q.id) ? answers[q.id] : undefined;
    const given = v !== undefined;
    const ja = labelIn(q.label, 'ja'), en = labelIn(q.label, 'en');
    const qid = JSON.stringify(q.id);
    const err = (code, msg, jaText, enText) => new AnswerError(code, q.id, msg, jaText, enText);
    if (v === null || (Array.isArray(v) && v.includes(null))) {
      throw err('json', `question ${qid}: null is not allowed: leave a question out to skip it`,
        '回答の形式が正しくありません', 'The answers are malformed');
    }
    const optionIndex = (x) => {
      if (typeof x !== 'string') {
        throw err('not-an-option', `question ${qid}: ${JSON.stringify(x)} is not an option id`,
          `「${ja}」: 選択肢から選んでください`, `"${en}": choose one of the options`);
      }
      const i = q.options.findIndex((o) => o.id === x);
      if (i < 0) {
        throw err('no-such-option', `question ${qid} has no option ${JSON.stringify(x)}`,
          `「${ja}」に選択肢「${x}」はありません`, `"${en}" has no option "${x}"`);
      }
      return i;
    };
    if (q.kind === 'single') {
      const row = new Array(q.options.length).fill(0);
      if (!given) {
        if (!q.optional) {
          throw err('needs-answer', `question ${qid} needs an answer`,
            `「${ja}」に回答してください`, `Please answer "${en}"`);
        }
      } else {
        row[optionIndex(v)] = 1;
      }
      pt.push(row);
    } else if (q.kind === 'multiple') {
      const row = new Array(q.options.length).fill(0);
      let list = [];
      if (given) {
        if (Array.isArray(v)) list = v;
        else if (typeof v === 'string') list = [v];
        else {
          throw err('not-a-list', `question ${qid}: answer with a list of option ids`,
            `「${ja}」: 選択肢から選んでください`, `"${en}": choose from the options`);
        }
      }
      for (const x of list) {
        const i = optionIndex(x);
        if (row[i] === 1) {
          throw err('chosen-twice', `question ${qid}: option ${JSON.stringify(q.options[i].id)} chosen twice`,
            `「${ja}」: 同じ選択肢が2回選ばれています`, `"${en}": the same option is chosen twice`);
        }
        row[i] = 1;
      }
      const min = q.min ?? 0, max = q.max;
      if (list.length < min || list.length > max) {
        const range = min === max ? `${min}つ` : `${min}つ以上${max}つまで`;
        const rangeEn = min === max ? `exactly ${min}` : `between ${min} and ${max}`;
        throw err('count', `question ${qid}: ${list.length} options chosen, allowed ${min} to ${max}`,
          `「${ja}」: ${list.length}つ選ばれています。${range}選んでください`,
          `"${en}": ${list.length} chosen; choose ${rangeEn}`);
      }
      pt.push(row);
    } else if (q.kind === 'rating') {
      const min = q.min ?? 0, max = q.max;
      if (!given) {
        throw err('needs-answer', `question ${qid} needs an answer from ${min} to ${max}`,
          `「${ja}」に${min}から${max}で回答してください`, `Please answer "${en}" from ${min} to ${max}`);
      }
      if (typeof v !== 'number') {
        throw err('not-a-number', `question ${qid}: answer with a number from ${min} to ${max}`,
          `「${ja}」: ${min}から${max}の数で回答してください`, `"${en}": answer with a number from ${min} to ${max}`);
      }
      if (!Number.isInteger(v) || v < min || v > max) {
        throw err('out-of-range', `question ${qid}: ${v} is not a whole number from ${min} to ${max}`,
          `「${ja}」: ${min}から${max}の整数で回答してください`, `"${en}": answer with a whole number from ${min} to ${max}`);
      }
      const row = new Array(max - min + 1).fill(0);
      row[v - min] = 1;
      pt.push(row);
    } else if (q.kind === 'text') {
      let s = '';
      if (given) {
        if (typeof v !== 'string') {
          throw err('not-a-string', `question ${qid}: answer with a string`, `「${ja}」: 文章で回答してください`, `"${en}": answer with text`);
        }
        s = v;
      }
      if (!mixed.wellFormed(s)) {
        throw err('json', `question ${qid}: not valid UTF-8`, '回答の形式が正しくありません', 'The answers are malformed');
      }
      if (s === '' && !q.optional) {
        throw err('needs-answer', `question ${qid} needs an answer (at most ${q.maxLength} characters)`,
          `「${ja}」に回答してください`, `Please answer "${en}"`);
      }
      const n = mixed.charCount(s);
      if (n > q.maxLength) {
        throw err('too-long', `question ${qid}: textenc: invalid text answer: ${n} characters, at most ${q.maxLength} allowed`,
          `「${ja}」: ${n}文字です。${q.maxLength}文字以内で書いてください`, `"${en}": ${n} characters; write at most ${q.maxLength}`);
      }
      pt.push(mixed.textPayload(s, q.maxLength));
    } else if (q.kind === 'rank') {
      const row = new Array(q.options.length).fill(0);
      let list = [];
      if (given) {
        if (!Array.isArray(v)) {
          throw err('not-a-list', `question ${qid}: answer with a list of option ids, first ranked first`,
            `「${ja}」: 順位を付けてください`, `"${en}": rank the options`);
        }
        list = v;
      }
      list.forEach((x, pos) => {
        const i = optionIndex(x);
        if (row[i] !== 0) {
          throw err('ranked-twice', `question ${qid}: option ${JSON.stringify(q.options[i].id)} ranked twice`,
            `「${ja}」: 同じ選択肢に2つの順位が付いています`, `"${en}": the same option is ranked twice`);
        }
        row[i] = pos + 1;
      });
      const min = q.min ?? 0, max = mixed.rankMax(q);
      if (list.length < min || list.length > max) {
        throw err('rank-count', `question ${qid}: ${list.length} options ranked, allowed ${min} to ${max}`,
          `「${ja}」: ${list.length}つに順位が付いています。${min}つ以上${max}つまで順位を付けてください`,
          `"${en}": ${list.length} ranked; rank between ${min} and ${max}`);
      }
      pt.push(row);
    } else {
      throw err('kind', `question ${qid}: kind ${q.kind} cannot be answered`, `「${ja}」は回答できない形式です`, `"${en}" cannot be answered`);
    }
  }
  return pt;
}

/** Selection values back into answers (to show what a spoiled ballot held). */
export function answersFromPlaintext(manifest, pt) {
  const a = {};
  manifest.questions.forEach((q, qi) => {
    if (q.kind === 'single') {
      const i = pt[qi].indexOf(1);
      if (i >= 0) a[q.id] = q.options[i].id;
    } else if (q.kind === 'multiple') {
      a[q.id] = q.options.filter((_, i) => pt[qi][i] === 1).map((o) => o.id);
    } else if (q.kind === 'rating') {
      // A checked plaintext has exactly one 1; without one there is no
      // answer to show rather than a wrong one.
      const i = pt[qi].indexOf(1);
      if (i >= 0) a[q.id] = (q.min ?? 0) + i;
    } else if (q.kind === 'text') {
      const text = mixed.payloadText(pt[qi], q.maxLength);
      if (text !== '') a[q.id] = text; // an empty answer is an absent one (SPEC §8.1)
    } else if (q.kind === 'rank') {
      a[q.id] = mixed.rankingOf(q, pt[qi]);
    }
  });
  return a;
}

function checkPlaintext(style, pt) {
  if (!Array.isArray(pt) || pt.length !== style.length) throw new Error(`plaintext has ${pt?.length} questions, the manifest ${style.length}`);
  style.forEach((qs, qi) => {
    const row = pt[qi];
    if (qs.mixed) {
      try {
        mixed.componentElements(qs.question, row);
      } catch (e) {
        throw new Error(`question ${qi + 1}: ${e.message}`);
      }
      return;
    }
    if (!Array.isArray(row) || row.length !== qs.selections) throw new Error(`question ${qi + 1}: ${row?.length} values, want ${qs.selections}`);
    let total = 0;
    row.forEach((v, si) => {
      if (!Number.isSafeInteger(v) || v < 0 || v > qs.max) throw new Error(`question ${qi + 1} selection ${si + 1}: value ${v} outside 0..${qs.max}`);
      total += v;
    });
    if (qs.rating && total !== 1) throw new Error(`question ${qi + 1} (${qs.rating}): a rating has exactly one value chosen, this has ${total}`);
    if (qs.hasTotal && (total < qs.lo || total > qs.hi)) throw new Error(`question ${qi + 1}: total ${total} outside ${qs.lo}..${qs.hi}`);
  });
}

// ---------------------------------------------------------------------------
// Ballots (SPEC §8.2–§8.6)

const MAGIC = enc.encode('koe1');

function selectionContext(ctx, binding, q, s) {
  return transcript('koe/v2/ballot/selection').bytes('election', ctx).bytes('binding', binding)
    .uint64('question', q).uint64('selection', s).digest();
}

function totalContext(ctx, binding, q) {
  return transcript('koe/v2/ballot/total').bytes('election', ctx).bytes('binding', binding)
    .uint64('question', q).digest();
}

/** code = H256("koe/v2/tracking"; Bytes("ballot", ballot bytes)). */
export function trackingCode(ballotBytes) {
  return transcript('koe/v2/tracking').bytes('ballot', ballotBytes).digest();
}

/**
 * A tracking code for people (SPEC §8.5): unpadded base32 in groups of four
 * (64 characters), or the short form (first four groups) if short is true.
 */
export function formatTrackingCode(code, short = false) {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let s = '', acc = 0, bits = 0;
  for (const x of code) {
    acc = (acc << 8) | x;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += A[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) s += A[(acc << (5 - bits)) & 31];
  const groups = s.match(/.{1,4}/g);
  return (short ? groups.slice(0, 4) : groups).join('-');
}

/**
 * Encrypts a plaintext (values[q][s]) into a ballot bound to `binding`
 * (32 bytes: ballotBinding(vk) for a credential), with a range proof per
 * selection and a proof of each question's total. Randomness is drawn in the
 * order of testdata/vectors/README.md. Returns {bytes, nonces, trackingCode}:
 * nonces[q][s] are BigInt scalars, the voter's secret unless spoiled.
 */
export function encryptBallot(el, binding, plaintext, rng = cryptoRandom()) {
  if (!(binding instanceof Uint8Array) || binding.length !== 32) throw new Error('binding is not 32 bytes');
  checkPlaintext(el.style, plaintext);
  const K = el.K;
  const parts = [MAGIC, el.context, binding];
  const nonces = [];
  el.style.forEach((qs, qi) => {
    const rs = [];
    if (qs.mixed) {
      mixed.componentElements(qs.question, plaintext[qi]).forEach((M, k) => {
        const r = randomScalar(rng);
        const A = mulSecret(Point.BASE, r);
        const ct = { A, B: M.add(mulSecret(K, r)) };
        const ab = encodeCiphertext(ct);
        parts.push(ab, mixed.proveSchnorr(mixed.componentContext(el.context, binding, qi, k, ab), r, A, rng));
        rs.push(r);
      });
      nonces.push(rs);
      return;
    }
    let rSum = 0n, total = 0, Asum = Point.ZERO, Bsum = Point.ZERO;
    for (let si = 0; si < qs.selections; si++) {
      const v = plaintext[qi][si];
      const r = randomScalar(rng);
      const ct = encrypt(K, v, r);
      const st = { context: selectionContext(el.context, binding, qi, si), K, A: ct.A, B: ct.B, lo: 0, hi: qs.max };
      parts.push(encodeCiphertext(ct), proveRange(st, v, r, rng));
      rs.push(r);
      rSum = mod(rSum + r);
      total += v;
      Asum = Asum.add(ct.A);
      Bsum = Bsum.add(ct.B);
    }
    if (qs.hasTotal) {
      const st = { context: totalContext(el.context, binding, qi), K, A: Asum, B: Bsum, lo: qs.lo, hi: qs.hi };
      parts.push(proveRange(st, total, rSum, rng));
    }
    nonces.push(rs);
  });
  const bytes = concat(...parts);
  if (bytes.length !== el.size) throw new Error('internal error: ballot size');
  return { bytes, nonces, trackingCode: trackingCode(bytes) };
}

// ---------------------------------------------------------------------------
// Eligibility on the board (SPEC §15.3, §15.6)

// Unicode White_Space, as Go's strings.TrimSpace trims it.
const WHITE = '[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+';
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

// Read as '-' after NFKC (SPEC §15.3): U+2010–U+2015, U+2043, U+2212 and U+30FC.
const DASHES = /[\u2010-\u2015\u2043\u2212\u30fc]/g;
const WHITE_ALL = new RegExp(WHITE, 'g');

/** The normalisation of voter ids and codes (SPEC §15.3): NFKC; dashes read as '-', white space removed, ASCII letters upper-cased; NFKC again. */
function fold(s) {
  return s.normalize('NFKC').replace(DASHES, '-').replace(WHITE_ALL, '')
    .replace(/[a-z]/g, (x) => x.toUpperCase()).normalize('NFKC');
}

/** The voter id as the roll holds it (SPEC §15.3); throws if it is not one. */
export function normalizeVoter(voter) {
  if (!voter.isWellFormed()) throw new Error('a voter id is 1 to 128 bytes of UTF-8');
  const v = fold(voter);
  if (v === '' || enc.encode(v).length > 128) throw new Error('a voter id is 1 to 128 bytes of UTF-8');
  return v;
}

/** The one-time code in its normal form XXXX-XXXX-XXXX-XXXX (SPEC §15.3); throws if it is not one. */
export function normalizeCode(code) {
  const c = code.isWellFormed() ? fold(code).replace(/-/g, '') : '';
  if (c.length !== 16 || [...c].some((x) => !CODE_ALPHABET.includes(x))) {
    throw new Error(`a one-time code is 16 characters of ${CODE_ALPHABET}`);
  }
  return `${c.slice(0, 4)}-${c.slice(4, 8)}-${c.slice(8, 12)}-${c.slice(12)}`;
}

/** c, the roll commitment of a letter: what the board's issuance entry for its voter names. */
export function rollCommitment(election, voter, code) {
  return transcript('koe/v2/roll/commitment').string('election', election)
    .string('voter', normalizeVoter(voter)).string('code', normalizeCode(code)).digest();
}

/** d, what a digital-ID registration's issuance entry names, of the blinded message sent. */
export function digitalIdEntry(election, blinded) {
  return transcript('koe/v2/roll/digital-id').string('election', election).bytes('blinded', blinded).digest();
}

/**
 * Decodes a ballot for an election (SPEC §8.2): length, magic, context,
 * every element and scalar canonical, no selection A the identity. Returns
 * {context, binding, questions: [{selections: [{A, B, proof}], total}]}.
 */
export function decodeBallot(el, b) {
  if (!(b instanceof Uint8Array) || b.length !== el.size) throw new Error(`ballot is ${b?.length} bytes, want ${el.size}`);
  if (!bytesEqual(b.subarray(0, 4), MAGIC)) throw new Error('ballot does not start with koe1');
  const context = b.slice(4, 36);
  if (!bytesEqual(context, el.context)) throw new Error('ballot is for another election context');
  const binding = b.slice(36, 68);
  let o = 68;
  const questions = el.style.map((qs, qi) => {
    const selections = [];
    if (qs.mixed) {
      for (let k = 0; k < qs.selections; k++) {
        const ab = b.slice(o, o + 64);
        const ct = decodeCiphertext(ab);
        if (ct.A.is0()) throw new Error(`question ${qi + 1} component ${k + 1}: A is the identity`);
        const proof = b.slice(o + 64, o + 128);
        decodeElement(proof.subarray(0, 32));
        decodeScalar(proof.subarray(32, 64));
        o += 128;
        selections.push({ A: ct.A, B: ct.B, ab, knowledge: proof });
      }
      return { selections, total: null, mixed: true };
    }
    for (let si = 0; si < qs.selections; si++) {
      const ct = decodeCiphertext(b.subarray(o, o + 64));
      if (ct.A.is0()) throw new Error(`question ${qi + 1} selection ${si + 1}: A is the identity`);
      o += 64;
      const n = rangeProofSize(0, qs.max);
      const proof = b.slice(o, o + n);
      decodeRangeProof(proof, 0, qs.max);
      o += n;
      selections.push({ A: ct.A, B: ct.B, proof });
    }
    let total = null;
    if (qs.hasTotal) {
      const n = rangeProofSize(qs.lo, qs.hi);
      total = b.slice(o, o + n);
      decodeRangeProof(total, qs.lo, qs.hi);
      o += n;
    }
    return { selections, total };
  });
  return { context, binding, questions };
}

/**
 * Decodes and verifies a ballot (SPEC §8.3), unbatched: the booth's
 * self-check before sending. Throws saying what failed; returns the decoded
 * ballot and its tracking code otherwise.
 */
export function verifyBallot(el, b) {
  const d = decodeBallot(el, b);
  el.style.forEach((qs, qi) => {
    const q = d.questions[qi];
    if (qs.mixed) {
      q.selections.forEach((c, k) => {
        try {
          mixed.verifySchnorr(mixed.componentContext(d.context, d.binding, qi, k, c.ab), c.A, c.knowledge);
        } catch (e) {
          throw new Error(`question ${qi + 1} component ${k + 1}: nonce proof: ${e.message}`);
        }
      });
      return;
    }
    let A = Point.ZERO, B = Point.ZERO;
    q.selections.forEach((sel, si) => {
      const st = { context: selectionContext(d.context, d.binding, qi, si), K: el.K, A: sel.A, B: sel.B, lo: 0, hi: qs.max };
      try {
        verifyRange(st, sel.proof);
      } catch (e) {
        throw new Error(`question ${qi + 1} selection ${si + 1}: ${e.message}`);
      }
      A = A.add(sel.A);
      B = B.add(sel.B);
    });
    if (qs.hasTotal) {
      const st = { context: totalContext(d.context, d.binding, qi), K: el.K, A, B, lo: qs.lo, hi: qs.hi };
      try {
        verifyRange(st, q.total);
      } catch (e) {
        throw new Error(`question ${qi + 1} total: ${e.message}`);
      }
    }
  });
  return { ...d, trackingCode: trackingCode(b) };
}

/**
 * The spoiled ballot of SPEC §8.6 as the JSON text to publish:
 * {"ballot": base64, "values": [[…]], "nonces": [["hex", …]]}.
 */
export function spoil(ballotBytes, plaintext, nonces) {
  return JSON.stringify({
    ballot: base64Encode(ballotBytes),
    values: plaintext.map((row) => row.map((v) => v)),
    nonces: nonces.map((row) => row.map((r) => toHex(encodeScalar(r)))),
  });
}

/**
 * Checks a spoiled ballot (SPEC §8.6) against an election: the ballot
 * verifies, the values fit the style and every selection opens. Returns the
 * plaintext values (turn them into answers with answersFromPlaintext).
 */
export function checkSpoiled(el, spoiled) {
  const s = typeof spoiled === 'string' || spoiled instanceof Uint8Array ? parseStrictJSON(spoiled) : spoiled;
  checkObject(s, ['ballot', 'values', 'nonces'], [], 'spoiled ballot');
  const b = base64Decode(s.ballot);
  const d = verifyBallot(el, b);
  checkPlaintext(el.style, s.values);
  if (!Array.isArray(s.nonces) || s.nonces.length !== s.values.length) throw new Error('spoiled ballot: nonces do not match the values');
  s.values.forEach((row, qi) => {
    const qs = el.style[qi];
    if (qs.mixed) {
      const ms = mixed.componentElements(qs.question, row);
      if (!Array.isArray(s.nonces[qi]) || s.nonces[qi].length !== ms.length) throw new Error(`spoiled ballot: question ${qi + 1}: wrong number of nonces`);
      ms.forEach((M, k) => {
        const r = decodeScalar(fromHex(s.nonces[qi][k], 32));
        const c = d.questions[qi].selections[k];
        if (!c.A.equals(mulSecret(Point.BASE, r)) || !c.B.equals(M.add(mulSecret(el.K, r)))) {
          throw new Error(`spoiled ballot: question ${qi + 1} component ${k + 1} does not encrypt the stated answer with the revealed nonce`);
        }
      });
      return;
    }
    if (!Array.isArray(s.nonces[qi]) || s.nonces[qi].length !== row.length) throw new Error(`spoiled ballot: question ${qi + 1}: wrong number of nonces`);
    row.forEach((v, si) => {
      const r = decodeScalar(fromHex(s.nonces[qi][si], 32));
      const sel = d.questions[qi].selections[si];
      if (!opens(el.K, sel, v, r)) throw new Error(`spoiled ballot: question ${qi + 1} selection ${si + 1} does not encrypt ${v} with the revealed nonce`);
    });
  });
  return s.values;
}

// ---------------------------------------------------------------------------
// Credentials (SPEC §14) and cast envelopes (SPEC §15.4)

const REGISTRAR_PREFIX = 'koe-registrar-pub-v1:';
const SECRET_FORMAT = 'koe/v2/credential-secret';
const blindRSA = () => RSABSSA.SHA384.PSS.Randomized();

/**
 * Parses a registrar public key text ("koe-registrar-pub-v1:" ‖
 * base64url(SPKI DER)) strictly and imports it for RSA-PSS/SHA-384.
 * Returns {text, spki, keyId, key (CryptoKey), size (bytes of the modulus)}.
 */
export async function importRegistrarKey(text) {
  if (typeof text !== 'string' || !text.startsWith(REGISTRAR_PREFIX) || text.length > 1024) {
    throw new Error('not a koe registrar public key');
  }
  const spki = base64urlDecode(text.slice(REGISTRAR_PREFIX.length));
  const key = await crypto.subtle.importKey('spki', spki, { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['verify']);
  const again = new Uint8Array(await crypto.subtle.exportKey('spki', key));
  if (!bytesEqual(again, spki)) throw new Error('registrar key: DER is not canonical');
  const bits = key.algorithm.modulusLength;
  const e = key.algorithm.publicExponent;
  if (![2048, 3072, 4096].includes(bits) || toHex(e).replace(/^0+/, '') !== '10001') {
    throw new Error('registrar key: RSA 2048, 3072 or 4096 bits with e = 65537 required');
  }
  const keyId = transcript('koe/v2/credential/registrar-key').bytes('spki', spki).digest();
  return { text, spki, keyId, key, size: bits / 8 };
}

/** m = H256("koe/v2/credential"; election = ctx, voter = vk). */
export function credentialMessage(ctx, vk) {
  return transcript('koe/v2/credential').bytes('election', ctx).bytes('voter', vk).digest();
}

/**
 * binding = H256("koe/v2/ballot/binding"; voter = vk, salt) (SPEC §14.3), with
 * a fresh 32-byte salt per ballot that only the cast envelope reveals, so a
 * challenged ballot names no credential.
 */
export function ballotBinding(vk, salt) {
  if (!(salt instanceof Uint8Array) || salt.length !== 32) throw new Error('binding: salt is not 32 bytes');
  return transcript('koe/v2/ballot/binding').bytes('voter', vk).bytes('salt', salt).digest();
}

/** H256("koe/v2/credential/id"; voter = vk): the ballot box's counter key. */
export function credentialKeyHash(vk) {
  return transcript('koe/v2/credential/id').bytes('voter', vk).digest();
}

/**
 * Starts issuance (SPEC §14.2): a fresh Ed25519 voter key, m, a 32-byte
 * randomizer and the RFC 9474 blinding. Send `blinded` to the registrar;
 * keep `pending` on the device (plain JSON-serialisable object of hex
 * strings; it holds secrets) for finalizeCredential.
 */
export async function requestCredential(registrarKeyText, ctx) {
  const reg = await importRegistrarKey(registrarKeyText);
  const seed = ed25519.utils.randomSecretKey();
  const vk = ed25519.getPublicKey(seed);
  const m = credentialMessage(ctx, vk);
  const suite = blindRSA();
  const input = suite.prepare(m); // ρ ‖ m, ρ from crypto.getRandomValues
  const { blindedMsg, inv } = await suite.blind(reg.key, input);
  return {
    blinded: blindedMsg,
    pending: {
      registrar: registrarKeyText, context: toHex(ctx), seed: toHex(seed), vk: toHex(vk),
      randomizer: toHex(input.subarray(0, 32)), inv: toHex(inv),
    },
  };
}

/**
 * Unblinds the registrar's blind signature and checks the credential
 * (RFC 9474 §4.4). Returns {credential: vk ‖ ρ ‖ σ, secret: the device's
 * credential file (the Go implementation's koe/v2/credential-secret JSON),
 * vk}.
 */
export async function finalizeCredential(pending, blindSignature) {
  const reg = await importRegistrarKey(pending.registrar);
  if (blindSignature.length !== reg.size) throw new Error(`blind signature is ${blindSignature.length} bytes, want ${reg.size}`);
  const vk = fromHex(pending.vk, 32), rho = fromHex(pending.randomizer, 32), ctx = fromHex(pending.context, 32);
  const input = concat(rho, credentialMessage(ctx, vk));
  let sig;
  try {
    sig = await blindRSA().finalize(reg.key, input, blindSignature, fromHex(pending.inv));
  } catch {
    throw new Error("the registrar's blind signature does not verify");
  }
  const credential = concat(vk, rho, sig);
  await verifyCredential(reg, ctx, credential);
  const secret = `{"format":"${SECRET_FORMAT}","public_key":"${toHex(vk)}","randomizer":"${toHex(rho)}","signature":"${toHex(sig)}","seed":"${pending.seed}"}`;
  return { credential, secret, vk };
}

/**
 * Verifies a credential vk ‖ ρ ‖ σ for a registrar key (text or imported)
 * and election context (SPEC §14.2). Throws if invalid.
 */
export async function verifyCredential(registrar, ctx, credential) {
  const reg = typeof registrar === 'string' ? await importRegistrarKey(registrar) : registrar;
  if (credential.length !== 64 + reg.size) throw new Error(`credential is ${credential.length} bytes, want ${64 + reg.size}`);
  const vk = credential.subarray(0, 32), rho = credential.subarray(32, 64), sig = credential.subarray(64);
  checkVoterKey(vk);
  const ok = await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: 48 }, reg.key, sig, concat(rho, credentialMessage(ctx, vk)));
  if (!ok) throw new Error("credential: the registrar's signature does not verify");
  return true;
}

// checkEd25519Key accepts only a canonical Ed25519 public key (SPEC §2.4):
// 32 bytes, a point's one encoding, not of small order.
function checkEd25519Key(vk, what) {
  let P;
  if (!(vk instanceof Uint8Array) || vk.length !== 32) throw new Error(`${what}: not 32 bytes`);
  try {
    P = ed25519.Point.fromBytes(vk, false);
  } catch {
    throw new Error(`${what}: not an Ed25519 point`);
  }
  if (!bytesEqual(P.toBytes(), vk)) throw new Error(`${what}: not canonical`);
  if (P.isSmallOrder()) throw new Error(`${what}: has small order`);
}

const checkVoterKey = (vk) => checkEd25519Key(vk, 'credential: voter key');

/** Parses the device's credential file (as finalizeCredential writes it). */
export function parseCredentialSecret(text) {
  const j = parseStrictJSON(text);
  checkObject(j, ['format', 'public_key', 'randomizer', 'signature', 'seed'], [], 'credential secret');
  if (j.format !== SECRET_FORMAT) throw new Error('not a koe credential secret');
  const c = {
    vk: fromHex(j.public_key, 32), randomizer: fromHex(j.randomizer, 32),
    signature: fromHex(j.signature), seed: fromHex(j.seed, 32),
  };
  if (!bytesEqual(ed25519.getPublicKey(c.seed), c.vk)) throw new Error('credential secret: seed does not match public_key');
  c.credential = concat(c.vk, c.randomizer, c.signature);
  return c;
}

/** H256("koe/v2/cast"; election = ctx, tracking, counter = u64). */
export function castMessage(ctx, tracking, counter) {
  return transcript('koe/v2/cast').bytes('election', ctx).bytes('tracking', tracking).uint64('counter', counter).digest();
}

/**
 * The cast signature (SPEC §14.3): Ed25519 by the credential's key over the
 * cast message. `secret` is the credential file text or parseCredentialSecret's result.
 */
export function castSignature(secret, ctx, tracking, counter) {
  const s = typeof secret === 'string' ? parseCredentialSecret(secret) : secret;
  return ed25519.sign(castMessage(ctx, tracking, counter), s.seed);
}

/**
 * The cast envelope (SPEC §15.4) as JSON text:
 * {"ballot": base64, "credential": base64, "salt": base64, "counter": c, "signature": base64}.
 */
export function envelope(ballotBytes, credential, salt, counter, signature) {
  const c = BigInt(counter);
  if (c < 0n || c >= 1n << 64n) throw new RangeError('counter out of range');
  if (!(salt instanceof Uint8Array) || salt.length !== 32) throw new Error('envelope: salt is not 32 bytes');
  return `{"ballot":"${base64Encode(ballotBytes)}","credential":"${base64Encode(credential)}","salt":"${base64Encode(salt)}","counter":${c},"signature":"${base64Encode(signature)}"}`;
}

/** Signs and wraps a ballot (bound with `salt`) for casting with a stored credential. */
export function castEnvelope(el, secret, ballotBytes, salt, counter) {
  const s = typeof secret === 'string' ? parseCredentialSecret(secret) : secret;
  const sig = castSignature(s, el.context, trackingCode(ballotBytes), counter);
  return envelope(ballotBytes, s.credential, salt, counter, sig);
}

/**
 * The counter of a credential's next cast (SPEC §15.4, rule 1): 1 for its
 * first, else its last accepted counter plus 1. `state` is the ballot box's
 * answer to GET /credentials/{vk} ({next} or {next, last, index});
 * `entryText` the board entry at `state.index` (absent for a first cast),
 * which must be a ballot cast with this key and counter `last`. A box that
 * answers wrongly only gets the cast refused, but the device does not go
 * on from a wrong answer.
 */
export function nextCounter(vk, state, entryText) {
  if (state === null || typeof state !== 'object') throw new Error('credential state: not an object');
  if (state.index === undefined) {
    if (state.next !== 1 || state.last !== undefined) throw new Error('credential state: a credential that never cast has next counter 1');
    return 1;
  }
  if (!Number.isSafeInteger(state.last) || state.last < 1 || state.next !== state.last + 1 || !Number.isSafeInteger(state.index) || state.index < 0) {
    throw new Error('credential state: last, next and index do not add up');
  }
  const entry = parseStrictJSON(entryText);
  const body = entry?.body;
  if (entry?.type !== 'ballot' || typeof body?.credential !== 'string' || body.counter !== state.last) {
    throw new Error(`board entry ${state.index} is not this credential's cast with counter ${state.last}`);
  }
  const cred = base64Decode(body.credential);
  if (cred.length < 32 || !bytesEqual(cred.subarray(0, 32), vk)) {
    throw new Error(`board entry ${state.index} is another credential's cast`);
  }
  return state.next;
}

/** A fresh binding salt (32 random bytes) for one ballot. */
export function bindingSalt() {
  return crypto.getRandomValues(new Uint8Array(32));
}

/**
 * Checks a cast envelope (SPEC §15.4) as the ballot box does, unbatched:
 * the ballot verifies for the election, the credential is the registrar's,
 * the ballot's binding is the credential's, and the cast signature covers
 * the tracking code and counter. Returns {trackingCode, vk, counter}.
 */
export async function verifyEnvelope(el, registrar, envelopeText) {
  const env = typeof envelopeText === 'string' || envelopeText instanceof Uint8Array ? parseStrictJSON(envelopeText) : envelopeText;
  const keys = Object.keys(env).sort().join(',');
  if (keys !== 'ballot,counter,credential,salt,signature') throw new Error('envelope: wrong fields');
  if (!Number.isSafeInteger(env.counter) || env.counter < 0) throw new Error('envelope: bad counter');
  const ballot = base64Decode(env.ballot), credential = base64Decode(env.credential), sig = base64Decode(env.signature);
  const salt = base64Decode(env.salt);
  if (salt.length !== 32) throw new Error('envelope: salt is not 32 bytes');
  const d = verifyBallot(el, ballot);
  await verifyCredential(registrar, el.context, credential);
  const vk = credential.slice(0, 32);
  if (!bytesEqual(d.binding, ballotBinding(vk, salt))) throw new Error("envelope: the ballot is not bound to this credential's key and salt");
  if (sig.length !== 64 || !ed25519.verify(sig, castMessage(el.context, d.trackingCode, env.counter), vk, { zip215: false })) {
    throw new Error('envelope: cast signature does not verify');
  }
  return { trackingCode: d.trackingCode, vk, counter: env.counter };
}

// ---------------------------------------------------------------------------
// Bulletin-board receipts (SPEC §13.3–13.4): the device checks its receipt.

const HEX64 = /^[0-9a-f]{64}$/;
const utf8 = new TextEncoder();

/**
 * Parses a note verifier key `name+hex(keyhash)+base64(0x01 ‖ Ed25519 key)`
 * (SPEC §13.3) and checks its key hash. Returns {name, keyHash, publicKey}.
 */
export function parseBoardKey(text) {
  // The base64 key may itself hold '+': split at the first two only.
  const m = typeof text === 'string' ? /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text) : null;
  const parts = m ? m.slice(1) : [];
  if (parts.length !== 3 || parts[0] === '' || /[\s]/.test(parts[0]) || !/^[0-9a-f]{8}$/.test(parts[1])) {
    throw new Error('board key: not name+hash+key');
  }
  const key = base64Decode(parts[2]);
  if (key.length !== 33 || key[0] !== 0x01) throw new Error('board key: not an Ed25519 key');
  checkEd25519Key(key.subarray(1), 'board key');
  const keyHash = sha256(concat(utf8.encode(parts[0] + '\n'), key)).subarray(0, 4);
  if (toHex(keyHash) !== parts[1]) throw new Error('board key: key hash does not match');
  return { name: parts[0], keyHash, publicKey: key.subarray(1) };
}

/**
 * Parses a witness's cosignature/v1 key `name+hex(keyID)+base64(0x04 ‖
 * Ed25519 key)` (SPEC §13.7) and checks its key ID. Returns {name,
 * keyHash, publicKey}.
 */
export function parseWitnessKey(text) {
  const m = typeof text === 'string' ? /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text) : null;
  const parts = m ? m.slice(1) : [];
  if (parts.length !== 3 || parts[0] === '' || /[\s]/.test(parts[0]) || !/^[0-9a-f]{8}$/.test(parts[1])) {
    throw new Error('witness key: not name+keyid+key');
  }
  const key = base64Decode(parts[2]);
  if (key.length !== 33 || key[0] !== 0x04) throw new Error('witness key: not a cosignature/v1 Ed25519 key');
  checkEd25519Key(key.subarray(1), 'witness key');
  const keyHash = sha256(concat(utf8.encode(parts[0] + '\n'), key)).subarray(0, 4);
  if (toHex(keyHash) !== parts[1]) throw new Error('witness key: key ID does not match');
  return { name: parts[0], keyHash, publicKey: key.subarray(1) };
}

/**
 * Counts the cosignatures of a signed checkpoint (C2SP tlog-cosignature/v1,
 * SPEC §13.7) by the manifest's witnesses. Returns the names (Text) of the
 * witnesses whose cosignature verifies, in the manifest's order; a line in
 * a listed witness's name and key ID that does not verify is an error.
 */
export function cosigners(signed, manifestBoard) {
  const split = signed.indexOf('\n\n');
  if (split < 0 || !signed.endsWith('\n')) throw new Error('checkpoint: not a signed note');
  const text = utf8.encode(signed.slice(0, split + 1));
  const lines = signed.slice(split + 2, -1).split('\n');
  const out = [];
  for (const w of manifestBoard?.witnesses ?? []) {
    const k = parseWitnessKey(w.key);
    let ok = false;
    for (const line of lines) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m || m[1] !== k.name) continue;
      const sig = base64Decode(m[2]);
      if (sig.length < 4 || !bytesEqual(sig.subarray(0, 4), k.keyHash)) continue;
      if (sig.length !== 76) throw new Error(`checkpoint: ${k.name}'s cosignature is not 76 bytes`);
      let t = 0n;
      for (const b of sig.subarray(4, 12)) t = (t << 8n) | BigInt(b);
      if (t >= 1n << 63n) throw new Error(`checkpoint: ${k.name}'s cosignature has a bad time`);
      const msg = concat(utf8.encode(`cosignature/v1\ntime ${t}\n`), text);
      if (!ed25519.verify(sig.subarray(12), msg, k.publicKey, { zip215: false })) {
        throw new Error(`checkpoint: ${k.name}'s cosignature does not verify`);
      }
      ok = true;
    }
    if (ok) out.push(w.name);
  }
  return out;
}

/**
 * Verifies a signed checkpoint (a C2SP signed note) with the board key and
 * parses it strictly: origin, size (no leading zeros), base64 tree hash, no
 * extension lines. Signatures by other keys are ignored. Returns
 * {origin, size, hash}.
 */
export function openCheckpoint(signed, boardKey) {
  const key = typeof boardKey === 'string' ? parseBoardKey(boardKey) : boardKey;
  if (typeof signed !== 'string') throw new Error('checkpoint: not text');
  const split = signed.indexOf('\n\n');
  if (split < 0 || !signed.endsWith('\n')) throw new Error('checkpoint: not a signed note');
  const text = signed.slice(0, split + 1);
  let verified = false;
  for (const line of signed.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) throw new Error('checkpoint: malformed signature line');
    if (m[1] !== key.name) continue;
    const sig = base64Decode(m[2]);
    if (sig.length !== 68 || !bytesEqual(sig.subarray(0, 4), key.keyHash)) continue;
    if (!ed25519.verify(sig.subarray(4), utf8.encode(text), key.publicKey, { zip215: false })) {
      throw new Error('checkpoint: the board key\'s signature does not verify');
    }
    verified = true;
  }
  if (!verified) throw new Error('checkpoint: not signed by the board key');
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '') throw new Error('checkpoint: not three lines (extension lines are not allowed)');
  const [origin, sizeText, hashText] = lines;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new Error('checkpoint: bad size');
  const hash = base64Decode(hashText);
  if (hash.length !== 32) throw new Error('checkpoint: the tree hash is not 32 bytes');
  return { origin, size: Number(sizeText), hash };
}

/** The RFC 6962 leaf hash of a board entry: SHA-256(0x00 ‖ entry). */
export const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));

const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

/**
 * Verifies an RFC 6962 inclusion proof (RFC 9162 §2.1.3.2) of leaf `index`
 * in the tree of `size` leaves whose hash is `root`. Throws if it fails.
 */
export function verifyInclusion(index, size, leaf, proof, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new Error(`inclusion proof: index ${index} is not in a tree of size ${size}`);
  }
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error('inclusion proof: too long');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0 || !bytesEqual(r, root)) throw new Error('inclusion proof does not verify');
}

/**
 * Checks a receipt (SPEC §13.4) for the entry bytes it names, under the
 * board key: the checkpoint is signed, of the receipt's election, the
 * entry is of that election, its leaf hash is the receipt's and the
 * inclusion proof takes it to the checkpoint's tree hash. Returns
 * {checkpoint: {origin, size, hash}, entry: the parsed entry}. Throws.
 */
export function verifyReceipt(receipt, entryBytes, boardKey) {
  const keys = Object.keys(receipt ?? {}).sort().join(',');
  if (keys !== 'checkpoint,election,index,leafHash,proof,tracking') throw new Error('receipt: wrong fields');
  const { election, tracking, index, leafHash: leafHex, proof } = receipt;
  if (typeof election !== 'string' || election === '' || election.includes('/')) throw new Error('receipt: bad election');
  const cp = openCheckpoint(receipt.checkpoint, boardKey);
  if (!cp.origin.endsWith('/koe/' + election) || cp.origin.length === election.length + 5) {
    throw new Error(`receipt: the checkpoint's origin ${cp.origin} is not of election ${election}`);
  }
  if (typeof tracking !== 'string' || !HEX64.test(tracking)) throw new Error('receipt: bad tracking code');
  let entry;
  try {
    entry = parseStrictJSON(entryBytes);
  } catch (e) {
    throw new Error(`receipt: the entry is not strict JSON (${e.message})`);
  }
  // SPEC §13.1: exactly these four keys, in this order.
  if (typeof entry !== 'object' || Array.isArray(entry) || Object.keys(entry).join(',') !== 'type,election,time,body') {
    throw new Error('receipt: the entry is not {"type","election","time","body"}');
  }
  if (entry?.election !== election) throw new Error('receipt: the entry is of another election');
  // SPEC §13.4: the receipt names the entry's ballot by its tracking code.
  if (entry.type !== 'ballot') throw new Error('receipt: the entry is not a ballot');
  const body = entry.body;
  const fields = body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body).sort().join(',') : '';
  if (fields !== 'ballot,counter,credential,salt,signature' || typeof body.ballot !== 'string') {
    throw new Error("receipt: the entry's body is not a cast envelope");
  }
  if (toHex(trackingCode(base64Decode(body.ballot))) !== tracking) {
    throw new Error('receipt: the entry holds a ballot with another tracking code than the receipt\'s');
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= cp.size) {
    throw new Error(`receipt: index ${index} is not in the checkpoint's tree of size ${cp.size}`);
  }
  if (typeof leafHex !== 'string' || !HEX64.test(leafHex)) throw new Error('receipt: bad leaf hash');
  const leaf = leafHash(entryBytes);
  if (toHex(leaf) !== leafHex) throw new Error("receipt: the leaf hash is not the entry's");
  if (!Array.isArray(proof) || proof.length > 63 || !proof.every((h) => typeof h === 'string' && HEX64.test(h))) {
    throw new Error('receipt: bad proof');
  }
  verifyInclusion(index, cp.size, leaf, proof.map((h) => fromHex(h, 32)), cp.hash);
  return { checkpoint: cp, entry };
}
