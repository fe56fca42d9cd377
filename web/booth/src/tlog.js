// koe booth: the board's witnessed checkpoints (SPEC.md §13.7) and RFC
// 6962 consistency between checkpoints (RFC 9162 §2.1.4, SPEC.md §13.8),
// so that the device can check a saved receipt against the final board:
// signed by the manifest's board key, cosigned by k of its m witnesses,
// and a history that extends the receipt's.

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Decode, fromHex, openCheckpoint, parseBoardKey, parseWitnessKey, toHex } from './koe.js';

const utf8 = new TextEncoder();
const SIG_LINE = /^\u2014 ([^\s+]+) ([A-Za-z0-9+/=]+)$/;

const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Verifies a signed checkpoint against a manifest's board object
 * {key, witnesses: [{name, key, url}], quorum} (SPEC §7.1, §13.7): the
 * board key signs it under the checkpoint's origin, every signature line
 * is well formed, every line in the name and key ID of the board or of a
 * listed witness verifies (a repeated line too), and lines of other keys
 * are ignored. Returns {origin, size, hash, cosigners, quorum, met}, with
 * cosigners the witness objects of the manifest, in its order, whose
 * cosignature/v1 verifies. Throws if any check fails; falling short of
 * the quorum is not an error (met is false).
 */
export function verifyCosigned(signed, manifestBoard) {
  const boardKey = parseBoardKey(manifestBoard?.key);
  const cp = openCheckpoint(signed, boardKey);
  if (cp.origin !== boardKey.name) throw new Error(`checkpoint: its origin ${cp.origin} is not the board key's name ${boardKey.name}`);
  const split = signed.indexOf('\n\n');
  const text = utf8.encode(signed.slice(0, split + 1));
  const witnesses = (manifestBoard.witnesses ?? []).map((w) => ({ w, k: parseWitnessKey(w.key), ok: false }));
  for (const line of signed.slice(split + 2, -1).split('\n')) {
    const m = SIG_LINE.exec(line);
    let sig;
    try {
      sig = m && base64Decode(m[2]);
    } catch {
      sig = null;
    }
    if (!sig || sig.length < 5) throw new Error('checkpoint: malformed signature line');
    const id = sig.subarray(0, 4);
    if (m[1] === boardKey.name && same(id, boardKey.keyHash)) {
      if (sig.length !== 68 || !ed25519.verify(sig.subarray(4), text, boardKey.publicKey, { zip215: false })) {
        throw new Error("checkpoint: a line of the board key's does not verify");
      }
      continue;
    }
    const wk = witnesses.find((x) => x.k.name === m[1] && same(x.k.keyHash, id));
    if (!wk) continue; // another key's line: ignored
    if (sig.length !== 76) throw new Error(`checkpoint: ${wk.k.name}'s cosignature is not 76 bytes`);
    let t = 0n;
    for (const b of sig.subarray(4, 12)) t = (t << 8n) | BigInt(b);
    if (t >= 1n << 63n) throw new Error(`checkpoint: ${wk.k.name}'s cosignature has a time above 2^63 − 1`);
    const msg = cat(utf8.encode(`cosignature/v1\ntime ${t}\n`), text);
    if (!ed25519.verify(sig.subarray(12), msg, wk.k.publicKey, { zip215: false })) {
      throw new Error(`checkpoint: ${wk.k.name}'s cosignature does not verify`);
    }
    wk.ok = true;
  }
  const cosigners = witnesses.filter((x) => x.ok).map((x) => x.w);
  const quorum = manifestBoard.quorum ?? 0;
  return { ...cp, cosigners, quorum, met: cosigners.length >= quorum };
}

const nodeHash = (l, r) => sha256(cat(Uint8Array.of(1), l, r));
const EMPTY = sha256(new Uint8Array(0));

/**
 * Verifies an RFC 9162 §2.1.4.2 consistency proof (the hashes, as bytes)
 * that the tree of size m and hash mh is a prefix of the tree of size n
 * and hash nh. The empty tree (its hash SHA-256 of nothing) is a prefix of
 * every tree, with an empty proof; equal sizes need equal hashes and an
 * empty proof. Throws if it fails.
 */
export function verifyConsistency(m, mh, n, nh, proof) {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) {
    throw new Error(`consistency proof: a tree of size ${m} cannot be a prefix of one of size ${n}`);
  }
  if (!Array.isArray(proof) || proof.some((p) => !(p instanceof Uint8Array) || p.length !== 32)) {
    throw new Error('consistency proof: not a list of 32-byte hashes');
  }
  if (m === 0) {
    if (!same(mh, EMPTY) || proof.length !== 0) throw new Error('consistency proof: bad empty tree or proof');
    return;
  }
  if (m === n) {
    if (!same(mh, nh) || proof.length !== 0) throw new Error('consistency proof: two different trees of the same size');
    return;
  }
  if (proof.length === 0) throw new Error('consistency proof: empty');
  // If m is a power of two, the older tree's hash is the first node.
  const path = m === 2 ** Math.round(Math.log2(m)) ? [mh, ...proof] : proof;
  let fn = m - 1, sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) throw new Error('consistency proof: too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0 || !same(fr, mh) || !same(sr, nh)) throw new Error('consistency proof does not verify');
}

/**
 * Checks a receipt's checkpoint against the final board (SPEC §13.8 steps
 * 1, 2 and 4; the booth checked the inclusion proof, step 3, when it got
 * the receipt): `receiptCheckpoint` is signed by the board key with the
 * final checkpoint's origin, `finalSigned` satisfies the manifest's policy
 * (k of m witnesses), the receipt's index is in the final tree, and
 * `proofHex` (hex hashes) proves the receipt's tree a prefix of the final
 * one. Returns the verifyCosigned result of the final checkpoint. Throws.
 */
export function checkFinal(receipt, finalSigned, proofHex, manifestBoard) {
  const fin = verifyCosigned(finalSigned, manifestBoard);
  if (!fin.met) {
    throw new Error(`the final checkpoint is cosigned by ${fin.cosigners.length} witnesses, fewer than the ${fin.quorum} the election requires`);
  }
  const own = openCheckpoint(receipt.checkpoint, manifestBoard.key);
  if (own.origin !== fin.origin) throw new Error(`the receipt's checkpoint is of ${own.origin}, not ${fin.origin}`);
  if (!Number.isSafeInteger(receipt.index) || receipt.index >= fin.size) {
    throw new Error(`the ballot's entry ${receipt.index} is not on the final board of ${fin.size} entries`);
  }
  if (own.size > fin.size) throw new Error(`the final board (${fin.size} entries) is shorter than the receipt's (${own.size}): it was cut back`);
  if (!Array.isArray(proofHex) || proofHex.length > 126) throw new Error('consistency proof: not a list of hashes');
  verifyConsistency(own.size, own.hash, fin.size, fin.hash, proofHex.map((h) => fromHex(h, 32)));
  return fin;
}

export { toHex };
