// Text and rank questions in the booth (SPEC §7.2, §8.1–8.3, §16.1–16.2):
// the text payload and its embedding in ristretto255, rankings as one
// position per option, and the Schnorr proof of knowledge of each
// component's nonce, bound to the ballot's binding (Cortier–Smyth).
import { ristretto255 } from '@noble/curves/ed25519.js';
import {
  transcript, decodeElement, encodeScalar, decodeScalar, randomScalar, L,
} from './koe.js';

const Point = ristretto255.Point;
const enc = new TextEncoder();

/** The most characters a text question may allow (SPEC §7.2). */
export const MAX_TEXT_LENGTH = 2000;
/** Bytes of data per element (SPEC §16.1). */
export const BLOCK = 30;

/** w = ⌈(2 + 4·L)/30⌉ components of a text question of L characters. */
export const textWidth = (maxLength) => Math.ceil((2 + 4 * maxLength) / BLOCK);

/** The number of Unicode scalar values of a string (Go's utf8.RuneCountInString). */
export const charCount = (s) => [...s].length;

/** A string with no lone surrogate, so its UTF-8 is what Go reads. */
export const wellFormed = (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/**
 * The payload of a text answer (SPEC §16.2): u16be(byte length) ‖ UTF-8 ‖
 * zero padding to 30·w bytes, as an array of byte values (the plaintext
 * row of the question).
 */
export function textPayload(s, maxLength) {
  const b = enc.encode(s);
  const p = new Array(textWidth(maxLength) * BLOCK).fill(0);
  p[0] = b.length >> 8;
  p[1] = b.length & 0xff;
  for (let i = 0; i < b.length; i++) p[2 + i] = b[i];
  return p;
}

/** The text of a payload row, or throws (SPEC §16.2's refusals). */
export function payloadText(row, maxLength) {
  if (!Array.isArray(row) || row.length !== textWidth(maxLength) * BLOCK) throw new Error('text payload has the wrong length');
  for (const v of row) if (!Number.isSafeInteger(v) || v < 0 || v > 255) throw new Error('text payload byte outside 0..255');
  const n = (row[0] << 8) | row[1];
  if (n > 4 * maxLength) throw new Error(`text length prefix ${n} exceeds ${4 * maxLength} bytes`);
  for (let i = 2 + n; i < row.length; i++) if (row[i] !== 0) throw new Error('text payload: non-zero padding');
  const s = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(row.slice(2, 2 + n)));
  if (charCount(s) > maxLength) throw new Error(`text of ${charCount(s)} characters, at most ${maxLength}`);
  return s;
}

/** Embed(d) of a 30-byte block (SPEC §16.1): the smallest counter that decodes. */
export function embedBlock(d) {
  const b = new Uint8Array(32);
  b.set(d, 1);
  for (let k = 0; k < 8192; k++) {
    b[0] = (k % 128) << 1;
    b[31] = k >> 7;
    try {
      return decodeElement(b);
    } catch {
      // not a valid encoding: try the next counter
    }
  }
  throw new Error('no counter below 2^13 embeds the block');
}

/** The component elements of a text payload row. */
export function embedPayload(row) {
  const out = [];
  for (let i = 0; i < row.length; i += BLOCK) out.push(embedBlock(Uint8Array.from(row.slice(i, i + BLOCK))));
  return out;
}

/** The rank limit k of a rank question: max, or every option. */
export const rankMax = (q) => (q.max ? q.max : q.options.length);

/**
 * The ranked option ids of a positions row (one per option, 0 = not
 * ranked), or throws: the non-zero positions must be 1..c, each once,
 * with min ≤ c ≤ k (SPEC §8.1).
 */
export function rankingOf(q, row) {
  const k = rankMax(q);
  if (!Array.isArray(row) || row.length !== q.options.length) throw new Error('ranking has the wrong length');
  const byPos = new Array(k).fill(null);
  let c = 0;
  row.forEach((p, i) => {
    if (p === 0) return;
    if (!Number.isSafeInteger(p) || p < 0 || p > k) throw new Error(`option ${q.options[i].id} has position ${p}, above ${k}`);
    if (byPos[p - 1] !== null) throw new Error(`two options share position ${p}`);
    byPos[p - 1] = q.options[i].id;
    c++;
  });
  for (let p = 0; p < c; p++) if (byPos[p] === null) throw new Error(`no option has position ${p + 1}`);
  if (c < (q.min ?? 0)) throw new Error(`${c} options ranked, at least ${q.min} required`);
  return byPos.slice(0, c);
}

/** The plaintext elements of a mixed question's row (SPEC §8.4). */
export function componentElements(q, row) {
  if (q.kind === 'text') {
    const s = payloadText(row, q.maxLength);
    if (s === '' && !q.optional) throw new Error('empty answer to a required text question');
    return embedPayload(row);
  }
  rankingOf(q, row);
  return row.map((p) => (p === 0 ? Point.ZERO : Point.BASE.multiply(BigInt(p))));
}

/** ctx_cmp(q, k) of SPEC §8.3 over the component's 64 bytes ab. */
export function componentContext(ctx, binding, q, k, ab) {
  return transcript('koe/v2/ballot/component').bytes('election', ctx).bytes('binding', binding)
    .uint64('question', q).uint64('component', k).bytes('ciphertext', ab).digest();
}

const schnorrChallenge = (context, X, R) =>
  transcript('koe/v2/proof/schnorr').bytes('context', context).element('X', X).element('R', R).challenge();

/** A Schnorr proof of x = log_G(X) (SPEC §4.1): enc(R) ‖ enc(s), 64 bytes. */
export function proveSchnorr(context, x, X, rng) {
  const k = randomScalar(rng);
  const R = k === 0n ? Point.ZERO : Point.BASE.multiply(k);
  const c = schnorrChallenge(context, X, R);
  const s = (k + c * x) % L;
  const out = new Uint8Array(64);
  out.set(R.toBytes(), 0);
  out.set(encodeScalar(s), 32);
  return out;
}

/** Checks a Schnorr proof: s·G = R + c·X. Throws if it fails. */
export function verifySchnorr(context, X, proof) {
  if (!(proof instanceof Uint8Array) || proof.length !== 64) throw new Error('schnorr proof is not 64 bytes');
  const R = decodeElement(proof.subarray(0, 32));
  const s = decodeScalar(proof.subarray(32, 64));
  const c = schnorrChallenge(context, X, R);
  const left = s === 0n ? Point.ZERO : Point.BASE.multiplyUnsafe(s);
  const right = c === 0n ? R : R.add(X.multiplyUnsafe(c));
  if (!left.equals(right)) throw new Error('schnorr: invalid proof');
}
