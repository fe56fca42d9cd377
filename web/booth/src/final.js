// The booth after the close (SPEC.md §13.8, §15.7): the receipts this
// device kept (localStorage, as the booth saved them when casting) are
// checked against the board's latest cosigned checkpoint — signed by the
// manifest's board key, cosigned by at least k of the manifest's m
// witnesses — with a consistency proof from each receipt's checkpoint to
// it. The manifest is the one whose election context the page publishes,
// so its board key and witnesses are the election's.
import * as koe from './koe.js';
import { checkFinal } from './tlog.js';

const $ = (id) => document.getElementById(id);

export async function finalCheck(cfg) {
  const t = (key, ...args) => {
    let m = cfg.messages[key] ?? key;
    for (const a of args) m = m.replace('%s', a);
    return m;
  };
  const box = $('final-result');
  const show = (cls, lines) => {
    box.className = cls;
    box.replaceChildren(...lines.map((l) => {
      const p = document.createElement('p');
      p.textContent = l;
      return p;
    }));
    box.hidden = false;
    $('final-status').textContent = '';
  };
  let receipts = [];
  try {
    // Every person's receipts kept on this device (booth.js), and those
    // an earlier booth kept at the top level.
    const s = JSON.parse(localStorage.getItem(`koe.booth.${cfg.election}`) ?? '{}');
    receipts = [...(s.receipts ?? []), ...(s.people ?? []).flatMap((p) => p.receipts ?? [])];
  } catch {
    receipts = [];
  }
  if (receipts.length === 0) {
    show('notice', [t('final.none')]);
    return;
  }
  $('final-status').textContent = t('final.checking');
  const get = async (path) => {
    const res = await fetch(cfg.api + path, { credentials: 'omit', cache: 'no-store' });
    if (!res.ok) {
      const e = new Error(`${path}: HTTP ${res.status}`);
      e.status = res.status;
      throw e;
    }
    return res;
  };
  try {
    const manifestBytes = new Uint8Array(await (await get('/manifest')).arrayBuffer());
    const registrar = await koe.importRegistrarKey(cfg.registrarKey);
    const el = koe.election(manifestBytes, cfg.jointKey, registrar.keyId);
    if (koe.toHex(el.context) !== cfg.context) throw new Error('the manifest does not give the published election context');
    const policy = el.manifest.board;
    if (!policy || policy.key !== cfg.boardKey) throw new Error("the manifest does not name the board's key");
    let signed;
    try {
      signed = await (await get('/cosigned-checkpoint')).text();
    } catch (e) {
      if (e.status === 404) {
        show('notice', [t('final.pending')]);
        return;
      }
      throw e;
    }
    let fin;
    const codes = [];
    for (const r of receipts) {
      const receipt = r.receipt?.receipt;
      if (!receipt || r.verified === false) throw new Error(`the receipt ${r.trackingCode} did not check when it was given`);
      const own = koe.openCheckpoint(receipt.checkpoint, policy.key);
      const cp = koe.openCheckpoint(signed, policy.key);
      if (cp.size <= receipt.index) {
        show('notice', [t('final.pending')]);
        return;
      }
      const answer = koe.parseStrictJSON(new Uint8Array(await (await get(`/consistency?from=${own.size}&to=${cp.size}`)).arrayBuffer()));
      koe.checkObject(answer, ['from', 'to', 'proof'], [], 'consistency proof');
      if (answer.from !== own.size || answer.to !== cp.size) throw new Error('the consistency proof is for other tree sizes');
      fin = checkFinal(receipt, signed, answer.proof, policy);
      codes.push(r.trackingCode);
    }
    const lang = cfg.lang;
    const names = fin.cosigners.map((w) => (w.name[lang] || (lang.startsWith('ja') ? w.name.ja : w.name.en || w.name.ja)));
    const list = names.join(lang === 'en' ? ', ' : '・');
    const lines = [t('final.ok', list, String(names.length)), t('final.detail', String(fin.size), String(fin.quorum), String(policy.witnesses?.length ?? 0))];
    if (!policy.witnesses?.length) lines.splice(0, 2, t('final.ok.board'), t('final.detail.board', String(fin.size)));
    lines.push(t('final.codes', codes.join(', ')));
    show('ok-box', lines);
  } catch (e) {
    show('error-box', [t('final.bad'), e.message]);
  }
}
