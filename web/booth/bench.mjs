// Times the booth's work in Node: encrypt + prove a 10-selection ballot
// (examples/budget.json), self-verify it, and a credential request/finalize.
//   node bench.mjs [runs]
import { readFileSync } from 'node:fs';
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import * as koe from './src/koe.js';

const runs = Number(process.argv[2] ?? 20);
const root = new URL('../../', import.meta.url);
const el = koe.election(readFileSync(new URL('examples/budget.json', root)),
  koe.generator().multiply(koe.randomScalar()).toBytes(), new Uint8Array(32));
const pt = koe.plaintextFromAnswers(el.manifest, { projects: ['park-lights', 'wifi', 'bike-lanes'] });
const binding = crypto.getRandomValues(new Uint8Array(32));

function time(label, f, n = runs) {
  f(); // warm up
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  console.log(`${label}: median ${t[t.length >> 1].toFixed(1)} ms, min ${t[0].toFixed(1)} ms, max ${t[t.length - 1].toFixed(1)} ms (${n} runs)`);
}

let b;
time(`encrypt + prove, budget.json (${el.style[0].selections} selections + total, ${el.size} bytes)`, () => { b = koe.encryptBallot(el, binding, pt); });
time('verifyBallot (unbatched self-check)', () => koe.verifyBallot(el, b.bytes));

const kp = await RSABSSA.SHA384.generateKey({ modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) });
const text = 'koe-registrar-pub-v1:' + koe.base64urlEncode(new Uint8Array(await crypto.subtle.exportKey('spki', kp.publicKey)));
const t = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const { blinded, pending } = await koe.requestCredential(text, el.context);
  const t1 = performance.now();
  const sig = await RSABSSA.SHA384.PSS.Randomized().blindSign(kp.privateKey, blinded);
  const t2 = performance.now();
  await koe.finalizeCredential(pending, sig);
  t.push([t1 - t0, performance.now() - t2]);
}
console.log('credential (RSA-3072): request ' + t.map((x) => x[0].toFixed(0)).join('/') + ' ms, finalize ' + t.map((x) => x[1].toFixed(0)).join('/') + ' ms');
