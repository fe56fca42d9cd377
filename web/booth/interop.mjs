// The booth's side of the live Go↔JavaScript interop test
// (internal/ballotbox/booth_live_test.go): the Go test runs this script
// with `node`, a JSON request on stdin, and reads a JSON answer on stdout.
// It uses the booth's module, src/koe.js (or KOE_BOOTH_MODULE, e.g.
// dist/koe.min.js), and nothing else, on inputs the Go test draws at random.
//
// Requests ({"op": …}):
//   request  {registrar, context}                 → {blinded, pending}
//   cast     {manifest, K, pending, blindSignature, answers, revote, counter}
//            → {context, credential, secret, plaintext, envelopes: [{counter, tracking, envelope}], spoiled}
//   verify   {manifest, K, registrar, envelopes: [text], spoiled: [text], plaintexts: [[…]]}
//            → {envelopes: [{ok, tracking, counter, error}], spoiled: [{ok, values, answers, error}],
//               answers: [answers of each plaintext]}
// Byte strings are lowercase hex, the manifest base64.
import { readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';

const modulePath = process.env.KOE_BOOTH_MODULE ?? fileURLToPath(new URL('./src/koe.js', import.meta.url));
const koe = await import(pathToFileURL(modulePath).href);
const h = koe.toHex;
const hex = (s) => koe.fromHex(s);

const req = JSON.parse(readFileSync(0, 'utf8'));
const election = async () => koe.election(koe.base64Decode(req.manifest), req.K, (await koe.importRegistrarKey(req.registrar)).keyId);

async function cast() {
  const el = await election();
  const { credential, secret, vk } = await koe.finalizeCredential(req.pending, hex(req.blindSignature));
  const envelopes = [];
  let spoiled;
  for (const [i, answers] of [req.answers, req.revote].entries()) {
    const pt = koe.plaintextFromAnswers(el.manifest, answers);
    const salt = koe.bindingSalt();
    const b = koe.encryptBallot(el, koe.ballotBinding(vk, salt), pt);
    if (i === 0) {
      // A Benaloh challenge first: another encryption, opened.
      const challenged = koe.encryptBallot(el, koe.ballotBinding(vk, koe.bindingSalt()), pt);
      spoiled = koe.spoil(challenged.bytes, pt, challenged.nonces);
    }
    const counter = req.counter + i;
    envelopes.push({ counter, tracking: h(b.trackingCode), envelope: koe.castEnvelope(el, secret, b.bytes, salt, counter) });
  }
  return {
    context: h(el.context), credential: h(credential), secret,
    plaintext: koe.plaintextFromAnswers(el.manifest, req.answers), envelopes, spoiled,
  };
}

async function verify() {
  const el = await election();
  const envelopes = [];
  for (const text of req.envelopes) {
    try {
      const r = await koe.verifyEnvelope(el, req.registrar, text);
      envelopes.push({ ok: true, tracking: h(r.trackingCode), counter: r.counter });
    } catch (e) {
      envelopes.push({ ok: false, error: e.message });
    }
  }
  const spoiled = req.spoiled.map((text) => {
    try {
      const values = koe.checkSpoiled(el, text);
      return { ok: true, values, answers: koe.answersFromPlaintext(el.manifest, values) };
    } catch (e) {
      return { ok: false, error: e.message };
    }
  });
  const answers = req.plaintexts.map((pt) => koe.answersFromPlaintext(el.manifest, pt));
  return { context: h(el.context), envelopes, spoiled, answers };
}

let out;
switch (req.op) {
  case 'request': {
    const { blinded, pending } = await koe.requestCredential(req.registrar, hex(req.context));
    out = { blinded: h(blinded), pending };
    break;
  }
  case 'cast':
    out = await cast();
    break;
  case 'verify':
    out = await verify();
    break;
  default:
    throw new Error(`unknown op ${req.op}`);
}
process.stdout.write(JSON.stringify(out) + '\n');
