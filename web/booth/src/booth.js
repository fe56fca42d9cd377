// The booth's page script: it drives the server-rendered booth page
// (internal/web/templates/booth.html) through registration, answering,
// review, the Benaloh challenge, casting and the receipt, with the
// cryptography of koe.js. Everything secret stays on the device: the
// credential's key in localStorage (the voter can save it as a file, or
// erase it), the ballot's nonces in memory until cast or spoiled.
//
// The registrar and the ballot box are called in separate requests
// without cookies (credentials: 'omit'), so that nothing but the network
// address could link a registration to a ballot; see SPEC.md §15.
import * as koe from './koe.js';
import { finalCheck } from './final.js';
import { wireTextCounters, readMixed, writeMixed, describeMixed } from './mixedform.js';

const $ = (id) => document.getElementById(id);

class BoothError extends Error {
  constructor(key, detail = '') {
    super(detail || key);
    this.key = key;
    this.detail = detail;
  }
}

function main() {
  const node = $('booth-config');
  if (!node) return;
  const cfg = JSON.parse(node.textContent);
  if (cfg.closed) {
    finalCheck(cfg); // after the close: this device's receipts against the final board (final.js)
    return;
  }
  const booth = new Booth(cfg);
  booth.start().catch((e) => booth.fail(e));
}

class Booth {
  constructor(cfg) {
    this.cfg = cfg;
    this.key = `koe.booth.${cfg.election}`;
    this.state = this.load();
    this.current = null; // the index in state.people of the person answering
    this.el = null;
    this.sealed = null; // {answers, plaintext, salt, bytes, nonces, trackingCode}
    this.busy = false;
  }

  t(key, ...args) {
    let m = this.cfg.messages[key] ?? key;
    for (const a of args) m = m.replace('%s', a);
    return m;
  }

  // --- Storage. A device may be shared (a family's tablet), so it keeps
  // one registration per person who registered on it — the credential
  // file text, the last counter, the receipts — and asks at each visit who
  // is answering; it never re-votes silently with another person's
  // credential. The person answering in this tab is remembered for the tab
  // only (sessionStorage), so that a reload goes on where they were.

  load() {
    const empty = { people: [], pending: null, pendingCode: null, pendingIssuance: null };
    try {
      const s = JSON.parse(localStorage.getItem(this.key) ?? '{}');
      // An earlier booth kept one registration at the top level.
      const people = Array.isArray(s.people) ? s.people
        : s.secret ? [{ secret: s.secret, counter: s.counter ?? 0, receipts: s.receipts ?? [], issuance: s.issuance ?? null, registered: null }] : [];
      return { ...empty, people, pending: s.pending ?? null, pendingCode: s.pendingCode ?? null, pendingIssuance: s.pendingIssuance ?? null };
    } catch {
      return empty;
    }
  }

  save() {
    localStorage.setItem(this.key, JSON.stringify(this.state));
  }

  /** The registration of the person answering, or null. */
  get me() {
    return this.current === null ? null : this.state.people[this.current] ?? null;
  }

  /** Makes person i (or nobody, for null) the one answering in this tab. */
  choose(i) {
    this.current = i;
    const me = this.me;
    if (me) sessionStorage.setItem(`${this.key}.current`, me.secret);
    else sessionStorage.removeItem(`${this.key}.current`);
  }

  /** The person this tab was answering as before a reload, if any. */
  resumed() {
    const secret = sessionStorage.getItem(`${this.key}.current`);
    const i = this.state.people.findIndex((p) => p.secret === secret);
    return i >= 0 ? i : null;
  }

  // Answers in progress are kept for this tab only: on a shared device the
  // next person must not find them, and a reload must not lose them.
  get draftKey() {
    return `${this.key}.draft`;
  }

  saveDraft() {
    if (!this.me) return;
    sessionStorage.setItem(this.draftKey, JSON.stringify({ secret: this.me.secret, answers: this.answers() }));
  }

  restoreDraft() {
    let d;
    try {
      d = JSON.parse(sessionStorage.getItem(this.draftKey) ?? 'null');
    } catch {
      d = null;
    }
    if (!d || !this.me || d.secret !== this.me.secret) return false;
    fillAnswers(document.getElementById('answers'), d.answers ?? {});
    return true;
  }

  clearDraft() {
    sessionStorage.removeItem(this.draftKey);
    const form = document.getElementById('answers');
    form.reset();
    for (const fs of form.querySelectorAll('fieldset[data-question]')) showCountError(fs, null);
    form.querySelectorAll('textarea').forEach((ta) => ta.dispatchEvent(new Event('input')));
  }

  // --- Start: the election's parameters, checked, then the right step.

  async start() {
    const manifest = await this.get('/manifest');
    try {
      const registrar = await koe.importRegistrarKey(this.cfg.registrarKey);
      this.el = koe.election(new Uint8Array(await manifest.arrayBuffer()), this.cfg.jointKey, registrar.keyId);
      wireTextCounters(document);
    } catch (e) {
      throw new BoothError('err.config', e.message);
    }
    if (koe.toHex(this.el.context) !== this.cfg.context) {
      throw new BoothError('err.config', 'the manifest, the joint key and the registrar key do not give the published election context');
    }
    this.wire();
    const fragment = new URLSearchParams(location.hash.slice(1));
    const sig = fragment.get('blind-signature');
    if (sig !== null) {
      history.replaceState(null, '', location.pathname + location.search);
      if (this.state.pending) {
        const issuance = fragment.get('issuance');
        if (issuance !== this.state.pendingIssuance) {
          throw new BoothError('err.credential', `the registrar recorded the issuance under ${issuance}, not under this registration's ${this.state.pendingIssuance}`);
        }
        await this.finishRegistration(this.state.pending, koe.base64urlDecode(sig), issuance);
        return;
      }
    }
    const resumed = this.resumed();
    if (resumed !== null) {
      this.choose(resumed);
      this.showAnswer(true, true);
    } else if (this.state.people.length > 0) {
      this.showWho();
    } else {
      this.show('register');
    }
    this.status(this.t('ready'));
  }

  wire() {
    $('register-code').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.run(() => this.registerWithCode());
    });
    $('register-digital-id')?.addEventListener('click', () => this.run(() => this.registerWithDigitalID()));
    $('credential-file').addEventListener('change', (ev) => this.run(() => this.loadCredentialFile(ev.target)));
    $('answers').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.run(() => this.review());
    });
    $('cast').addEventListener('click', () => this.run(() => this.cast()));
    $('edit').addEventListener('click', () => this.showAnswer(false));
    $('challenge').addEventListener('click', () => this.run(() => this.challenge()));
    $('challenge-continue').addEventListener('click', () => this.run(() => this.seal(this.sealed.answers)));
    $('challenge-edit').addEventListener('click', () => this.showAnswer(false));
    $('revote').addEventListener('click', () => this.showAnswer());
    $('forget').addEventListener('click', () => this.forget());
    $('who-new').addEventListener('click', () => {
      this.clearDraft();
      this.choose(null);
      this.show('register');
    });
    $('switch-person').addEventListener('click', () => this.showWho());
    const form = $('answers');
    const changed = (ev) => {
      const fs = ev.target.closest('fieldset[data-question]');
      if (fs) checkCount(fs, this.el.manifest, (k, ...a) => this.t(k, ...a));
      this.saveDraft();
    };
    form.addEventListener('change', changed);
    form.addEventListener('input', changed);
  }

  // showWho asks who is answering, when the device keeps registrations.
  showWho() {
    const list = $('who-list');
    list.replaceChildren();
    this.state.people.forEach((p, i) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'secondary';
      const when = p.registered ? new Date(p.registered).toLocaleString(({ en: 'en-GB', 'zh-Hans': 'zh-CN', ko: 'ko-KR' })[this.cfg.lang] ?? 'ja-JP', { month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : null;
      b.textContent = this.t('who.person', String(i + 1));
      const detail = document.createElement('span');
      detail.className = 'muted who-detail';
      detail.textContent = [when ? this.t('who.registered', when) : null,
        p.receipts.length ? this.t('who.answered', String(p.receipts.length)) : this.t('who.notyet')].filter(Boolean).join(' · ');
      b.append(document.createElement('br'), detail);
      b.addEventListener('click', () => {
        if (i !== this.current) this.clearDraft(); // the answers in progress were someone else's
        this.choose(i);
        this.showAnswer(true, true);
      });
      li.append(b);
      list.append(li);
    });
    this.show('who');
  }

  // run runs one action at a time, showing its errors.
  async run(action) {
    if (this.busy) return;
    this.busy = true;
    document.getElementById('booth').setAttribute('aria-busy', 'true');
    this.clearError();
    try {
      await action();
    } catch (e) {
      this.fail(e);
    } finally {
      this.busy = false;
      document.getElementById('booth').removeAttribute('aria-busy');
    }
  }

  // --- Steps.

  show(step) {
    for (const s of document.querySelectorAll('#booth .step')) s.hidden = s.id !== `step-${step}`;
    const current = step === 'challenge' ? 'review' : step;
    for (const li of document.querySelectorAll('#booth .progress li')) {
      if (li.dataset.step === current) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    }
    document.getElementById('booth').dataset.state = step;
    const h = document.querySelector(`#step-${step} h2`);
    h.focus();
  }

  status(text) {
    $('booth-status').textContent = text;
  }

  clearError() {
    const box = $('booth-error');
    box.hidden = true;
    box.textContent = '';
  }

  fail(e) {
    let text;
    if (e instanceof BoothError) {
      text = this.t(e.key, e.detail);
    } else if (e instanceof koe.AnswerError) {
      text = e.text[this.cfg.lang] ?? this.answerText(e);
    } else {
      text = this.t('err.other', e?.message ?? String(e));
    }
    this.status('');
    const box = $('booth-error');
    box.textContent = text;
    box.hidden = false;
    box.focus();
    if (e instanceof koe.AnswerError && e.question) {
      const fs = document.querySelector(`fieldset[data-question="${CSS.escape(e.question)}"]`);
      if (fs) showCountError(fs, text);
      const first = document.querySelector(`fieldset[data-question="${CSS.escape(e.question)}"] input`);
      first?.focus();
    }
  }

  // answerText words an answer's fault in a language the script has no
  // text of its own for (koe.AnswerError carries Japanese and English):
  // the page's message for the fault's code, with the question's label as
  // the page shows it; English where the page has no such message.
  answerText(e) {
    const legend = e.question && document.querySelector(`fieldset[data-question="${CSS.escape(e.question)}"] legend`);
    const label = legend ? legend.textContent.replace(/^\s*\d+\.\s*/, '').trim() : '';
    if (!label) return e.text.en ?? e.message;
    const key = `answer.${e.code}`;
    return this.t(this.cfg.messages[key] !== undefined ? key : 'answer.other', label);
  }

  // --- The API, without cookies.

  async get(path) {
    let res;
    try {
      res = await fetch(this.cfg.api + path, { credentials: 'omit', cache: 'no-store' });
    } catch {
      throw new BoothError('err.network');
    }
    if (!res.ok) throw await apiError(res);
    return res;
  }

  // post sends body and parses the answer strictly as the response of kind
  // (koe.parseResponse): a malformed answer is an error, as in Go's client.
  async post(path, body, kind) {
    let res;
    try {
      res = await fetch(this.cfg.api + path, {
        method: 'POST', credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body,
      });
    } catch {
      throw new BoothError('err.network');
    }
    if (!res.ok) throw await apiError(res);
    try {
      return koe.parseResponse(kind, new Uint8Array(await res.arrayBuffer()));
    } catch (e) {
      throw new BoothError('err.other', e.message);
    }
  }

  // --- Registration (SPEC.md §14.2): blind on the device, unblind on the device.

  async registerWithCode() {
    const voter = $('voter-id').value.trim(), code = $('voter-code').value.trim();
    for (const [input, value] of [[$('voter-id'), voter], [$('voter-code'), code]]) {
      if (value === '') input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    if (voter === '' || code === '') {
      (voter === '' ? $('voter-id') : $('voter-code')).focus();
      throw new BoothError('needfields');
    }
    this.status(this.t('registering'));
    // The request is kept until answered, so that if the answer is lost
    // (a dropped connection), trying again sends the same blinded message
    // and the registrar, which issued it, signs it again (SPEC.md §15.3).
    let req = this.state.pendingCode;
    if (!req || req.voter !== voter) {
      const { blinded, pending } = await koe.requestCredential(this.cfg.registrarKey, this.el.context);
      req = { voter, blinded: koe.base64Encode(blinded), pending };
      this.state.pendingCode = req;
      this.save();
    }
    let res;
    try {
      res = await this.post('/register', JSON.stringify({ voter, code, blinded: req.blinded }), 'register');
    } catch (e) {
      if (e.key !== 'err.network') {
        this.state.pendingCode = null; // refused: nothing was issued for it
        this.save();
      }
      throw e;
    }
    // The receipt: the issuance entry names this letter's roll
    // commitment, which the device recomputes (SPEC §15.3).
    let c;
    try {
      c = koe.toHex(koe.rollCommitment(this.el.manifest.id, voter, code));
    } catch (e) {
      throw new BoothError('err.credential', e.message);
    }
    if (res.issuance !== c) throw new BoothError('err.credential', `the registrar recorded the issuance under ${res.issuance}, not under this letter's roll commitment ${c}`);
    await this.finishRegistration(req.pending, koe.base64Decode(res.blindSignature), c);
    $('voter-code').value = '';
  }

  async registerWithDigitalID() {
    this.status(this.t('registering'));
    const { blinded, pending } = await koe.requestCredential(this.cfg.registrarKey, this.el.context);
    const res = await this.post('/oidc/start', JSON.stringify({ blinded: koe.base64Encode(blinded) }), 'oidc-start');
    // The blinding secrets wait here for the signature, which comes back
    // in this page's fragment after the sign-in, with the receipt d of the
    // blinded message (SPEC §15.6).
    this.state.pending = pending;
    this.state.pendingIssuance = koe.toHex(koe.digitalIdEntry(this.el.manifest.id, blinded));
    this.save();
    this.status(this.t('redirecting'));
    location.assign(res.authorizationURL);
  }

  async finishRegistration(pending, blindSignature, issuance) {
    let result;
    try {
      result = await koe.finalizeCredential(pending, blindSignature);
    } catch (e) {
      throw new BoothError('err.credential', e.message);
    } finally {
      this.state.pending = null;
      this.state.pendingCode = null;
      this.state.pendingIssuance = null;
      this.save();
    }
    this.state.people.push({ secret: result.secret, counter: 0, receipts: [], issuance, registered: new Date().toISOString() });
    this.save();
    this.choose(this.state.people.length - 1);
    this.clearDraft();
    this.status(`${this.t('registered')} ${this.t('issuance', issuance)}`);
    this.showAnswer();
  }

  async loadCredentialFile(input) {
    const file = input.files?.[0];
    if (!file) return;
    let text;
    try {
      text = (await file.text()).trim();
      const secret = koe.parseCredentialSecret(text);
      await koe.verifyCredential(this.cfg.registrarKey, this.el.context, secret.credential);
    } catch (e) {
      throw new BoothError('err.file', e.message);
    } finally {
      input.value = '';
    }
    let i = this.state.people.findIndex((p) => p.secret === text);
    if (i < 0) {
      this.state.people.push({ secret: text, counter: 0, receipts: [], issuance: null, registered: null });
      i = this.state.people.length - 1;
    }
    this.save();
    this.choose(i);
    this.status(this.t('loaded'));
    this.showAnswer(true, true);
  }

  // forget erases the registration of the person answering from this
  // device; the others' stay.
  forget() {
    if (!confirm(this.t('confirm.forget'))) return;
    this.state.people.splice(this.current, 1);
    this.save();
    this.clearDraft();
    this.choose(null);
    this.sealed = null;
    if (this.state.people.length) this.showWho();
    else this.show('register');
    this.status(this.t('forgotten'));
  }

  // --- Answering and sealing.

  showAnswer(fresh = true, restore = false) {
    const last = this.me.receipts.at(-1);
    if (restore && this.restoreDraft()) this.status(this.t('draft.restored'));
    $('revote-note').hidden = !last;
    if (last) $('revote-last').textContent = this.t('last', last.trackingCode);
    if (fresh) this.sealed = null;
    this.show('answer');
  }

  answers() {
    const a = {};
    for (const fs of document.querySelectorAll('#answers fieldset[data-question]')) {
      const id = fs.dataset.question;
      const checked = [...fs.querySelectorAll('input:checked')].map((i) => i.value);
      switch (fs.dataset.kind) {
        case 'single':
          // An optional question's "no answer" radio has the value "": a
          // blank question is left out (SPEC §8.1), never sent as "".
          if (checked.length && checked[0] !== '') a[id] = checked[0];
          break;
        case 'multiple':
          a[id] = checked;
          break;
        case 'rating':
          if (checked.length) a[id] = Number(checked[0]);
          break;
        case 'text':
        case 'rank': {
          const v = readMixed(fs);
          if (v !== undefined) a[id] = v;
          break;
        }
      }
    }
    return a;
  }

  async review() {
    await this.seal(this.answers());
  }

  // seal encrypts the answers with fresh nonces and shows them for review.
  async seal(answers) {
    const plaintext = koe.plaintextFromAnswers(this.el.manifest, answers);
    this.status(this.t('encrypting'));
    await nextFrame();
    const vk = koe.parseCredentialSecret(this.me.secret).vk;
    const t0 = performance.now();
    // A fresh salt: if this ballot is challenged, nothing in it names the credential.
    const salt = koe.bindingSalt();
    const enc = koe.encryptBallot(this.el, koe.ballotBinding(vk, salt), plaintext);
    // For the measurements of the browser tests (see README.md).
    performance.measure('koe-encrypt', { start: t0, end: performance.now() });
    koe.verifyBallot(this.el, enc.bytes); // a device that cannot prove its own ballot stops here
    this.sealed = { answers, plaintext, salt, ...enc };
    this.describe($('review-list'), answers);
    $('review-tracking').textContent = koe.formatTrackingCode(enc.trackingCode);
    $('challenge-box').open = false;
    this.show('review');
    this.status(this.t('encrypted'));
  }

  // describe lists answers as question → chosen labels.
  describe(dl, answers) {
    dl.replaceChildren();
    const lang = this.cfg.lang;
    // A manifest label in the page's language (SPEC.md §7.1): its own
    // tag, else ja for a tag of Japanese, else en, else ja.
    const label = (t) => t[lang] || (lang.startsWith('ja') ? t.ja : t.en || t.ja);
    for (const q of this.el.manifest.questions) {
      const dt = document.createElement('dt');
      dt.textContent = label(q.label);
      const dd = document.createElement('dd');
      const v = answers[q.id];
      if (q.kind === 'rating') {
        dd.textContent = v === undefined ? this.t('blank') : String(v);
      } else if (q.kind === 'text' || q.kind === 'rank') {
        describeMixed(dd, q, v, label, this.t(q.kind === 'text' ? 'blank' : 'none'));
      } else {
        const ids = v === null || v === undefined ? [] : Array.isArray(v) ? v : [v];
        const names = ids.map((id) => label(q.options.find((o) => o.id === id).label));
        if (names.length === 0) dd.textContent = this.t(q.kind === 'single' ? 'blank' : 'none');
        else if (names.length === 1) dd.textContent = names[0];
        else {
          const ul = document.createElement('ul');
          for (const n of names) {
            const li = document.createElement('li');
            li.textContent = n;
            ul.append(li);
          }
          dd.append(ul);
        }
      }
      const div = document.createElement('div');
      div.append(dt, dd);
      dl.append(div);
    }
  }

  // --- The Benaloh challenge (SPEC.md §8.6).

  async challenge() {
    const s = this.sealed;
    this.status(this.t('spoiling'));
    const spoiled = koe.spoil(s.bytes, s.plaintext, s.nonces);
    // The device checks the opening itself, and the ballot box opens it
    // independently and says what it found.
    const local = koe.answersFromPlaintext(this.el.manifest, koe.checkSpoiled(this.el, spoiled));
    const res = await this.post('/spoiled', spoiled, 'spoiled');
    const same = sameAnswers(this.el.manifest, local, s.answers) && sameAnswers(this.el.manifest, res.answers, s.answers);
    const result = $('challenge-result');
    result.textContent = this.t(same ? 'spoiled.ok' : 'spoiled.bad');
    result.className = same ? 'result ok' : 'result bad';
    $('challenge-tracking').textContent = res.trackingCode;
    this.describe($('challenge-list'), res.answers);
    this.show('challenge');
    this.status(this.t(same ? 'spoiled.ok' : 'spoiled.bad'));
  }

  // --- Casting (SPEC.md §15.4).

  async cast() {
    const s = this.sealed;
    this.status(this.t('casting'));
    // The counter is the credential's last on the board plus one (SPEC.md
    // §15.4): read from the board, so a credential file moved to another
    // device goes on from where it was.
    const counter = await this.nextCounter();
    const env = koe.castEnvelope(this.el, this.me.secret, s.bytes, s.salt, counter);
    const res = await this.post('/ballots', env, 'cast');
    if (res?.receipt?.tracking !== koe.toHex(s.trackingCode)) {
      throw new BoothError('err.other', 'the receipt names another ballot');
    }
    const me = this.me;
    me.counter = counter;
    const verified = await this.checkReceipt(res.receipt, s.bytes);
    me.receipts.push({ trackingCode: res.trackingCode, index: res.receipt.index, counter, verified, receipt: res });
    this.save();
    this.clearDraft();
    this.sealed = null;
    this.showReceipt(res, verified);
    this.status(this.t('cast'));
  }

  // nextCounter asks the ballot box for the credential's next counter and
  // checks the board entry its answer names.
  async nextCounter() {
    const vk = koe.parseCredentialSecret(this.me.secret).vk;
    const raw = new Uint8Array(await (await this.get(`/credentials/${koe.toHex(vk)}`)).arrayBuffer());
    try {
      const state = koe.parseResponse('credential', raw);
      let entry;
      if (state.index !== undefined) entry = new Uint8Array(await (await this.get(`/entries/${state.index}`)).arrayBuffer());
      return koe.nextCounter(vk, state, entry);
    } catch (e) {
      throw new BoothError('err.other', e.message);
    }
  }

  // checkReceipt checks, on this device, that the board entry the receipt
  // names holds this very ballot and that the inclusion proof takes it to
  // a checkpoint signed with the board's key (SPEC.md §13.4). It returns
  // whether it did; a failure is shown with the receipt, as a warning.
  async checkReceipt(receipt, ballotBytes) {
    try {
      const res = await this.get(`/entries/${receipt.index}`);
      const { entry } = koe.verifyReceipt(receipt, new Uint8Array(await res.arrayBuffer()), this.cfg.boardKey);
      if (entry.type !== 'ballot' || entry.body?.ballot !== koe.base64Encode(ballotBytes)) {
        throw new Error('the board entry does not hold this ballot');
      }
      return true;
    } catch (e) {
      this.receiptProblem = e.message;
      return false;
    }
  }

  showReceipt(res, verified) {
    const code = res.trackingCode;
    $('receipt-verified').hidden = !verified;
    $('receipt-unverified').hidden = verified;
    if (!verified) $('receipt-problem').textContent = this.receiptProblem ?? '';
    $('receipt-tracking').textContent = code;
    $('receipt-index').textContent = String(res.receipt.index);
    $('receipt-size').textContent = res.receipt.checkpoint.split('\n')[1] ?? '';
    $('receipt-counter').textContent = String(this.me.receipts.length);
    const qr = $('receipt-qr');
    qr.src = `${this.cfg.qr}?code=${encodeURIComponent(code)}`;
    qr.hidden = false;
    $('receipt-check').href = `${this.cfg.receiptPage}?code=${encodeURIComponent(code)}`;
    setDownload($('receipt-download'), JSON.stringify(res, null, 2) + '\n');
    setDownload($('credential-download'), this.me.secret + '\n');
    this.show('receipt');
  }
}

// apiError turns an API error response (SPEC.md §15.1) into a BoothError.
async function apiError(res) {
  let body = {};
  try {
    body = koe.parseResponse('error', new Uint8Array(await res.arrayBuffer()));
  } catch {
    /* not JSON */
  }
  const known = ['not-eligible', 'already-registered', 'closed', 'not-open', 'rate-limited', 'replay', 'wrong-counter', 'too-many-casts'];
  if (known.includes(body.error)) return new BoothError(`err.${body.error}`);
  return new BoothError('err.other', body.message ?? `HTTP ${res.status}`);
}

// sameAnswers compares two answer sets as selections.
function sameAnswers(manifest, a, b) {
  try {
    const x = koe.plaintextFromAnswers(manifest, a), y = koe.plaintextFromAnswers(manifest, b);
    return JSON.stringify(x) === JSON.stringify(y);
  } catch {
    return false;
  }
}

function setDownload(a, text) {
  if (a.href.startsWith('blob:')) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
}

// fillAnswers sets a form's controls to saved answers (a draft).
function fillAnswers(form, answers) {
  for (const fs of form.querySelectorAll('fieldset[data-question]')) {
    const v = answers[fs.dataset.question];
    if (v === undefined) continue;
    switch (fs.dataset.kind) {
      case 'single':
      case 'multiple':
      case 'rating': {
        const chosen = new Set((Array.isArray(v) ? v : [v]).map(String));
        for (const i of fs.querySelectorAll('input')) i.checked = chosen.has(i.value);
        break;
      }
      case 'text':
      case 'rank':
        writeMixed(fs, v);
        break;
    }
  }
}

// checkCount says, next to a multiple-choice question, when more options
// are ticked than it allows: on a phone the form's own error box is out of
// sight.
function checkCount(fs, manifest, t) {
  if (fs.dataset.kind !== 'multiple') return;
  const q = manifest.questions.find((x) => x.id === fs.dataset.question);
  const n = fs.querySelectorAll('input:checked').length;
  showCountError(fs, q && n > q.max ? t('toomany', String(q.max), String(n)) : null);
}

// showCountError shows (text) or hides (null) a question's own error line.
function showCountError(fs, text) {
  let p = fs.querySelector('.q-error');
  if (!p) {
    p = document.createElement('p');
    p.className = 'q-error';
    p.id = `q-error-${fs.dataset.question}`;
    p.setAttribute('role', 'status');
    const legend = fs.querySelector('legend');
    if (legend) legend.after(p);
    else fs.prepend(p);
  }
  p.textContent = text ?? '';
  p.hidden = text === null;
  if (text === null) fs.removeAttribute('aria-describedby');
  else fs.setAttribute('aria-describedby', p.id);
}

// nextFrame lets the page show a status before a long computation.
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

main();
