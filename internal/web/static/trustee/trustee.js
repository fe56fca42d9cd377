// The trustee's page: the form around koe's trustee program (trustee.wasm,
// the Go code of koe trustee compiled to WebAssembly). This script only
// reads the forms, hands the key file and passphrase to the program in
// this page's memory, saves the key files the program returns, and puts
// its reports in words. It sends nothing itself.
"use strict";
(() => {
  const cfg = JSON.parse(document.getElementById("trustee-config").textContent);
  const M = cfg.messages;
  const $ = (id) => document.getElementById(id);
  // t formats a message: %s, %d and %v take the arguments in order.
  const t = (key, ...args) => {
    let i = 0;
    return (M[key] || key).replace(/%%|%[sdv]/g, (m) => (m === "%%" ? "%" : String(args[i++])));
  };
  const status = (text) => { $("trustee-status").textContent = text; };
  const progress = (text) => { $("trustee-progress").textContent = text; };
  const showError = (e) => {
    const box = $("trustee-error");
    box.replaceChildren();
    const p = document.createElement("p");
    p.textContent = e.message || String(e);
    box.append(p);
    if (e.hint) {
      const h = document.createElement("p");
      h.textContent = t("hint", e.hint);
      box.append(h);
    }
    box.hidden = false;
    box.focus();
  };
  const clearError = () => { $("trustee-error").hidden = true; };
  const setBusy = (busy) => {
    for (const id of ["open-submit", "keygen-submit", "run"]) $(id).disabled = busy;
    $("trustee").dataset.state = busy ? "busy" : "ready";
  };
  const token = () => {
    const v = $("token").value.trim();
    if (!v) {
      $("token").focus();
      throw new Error(M["err.token"]);
    }
    return v;
  };

  // The key file in use: its bytes, passphrase and file name stay in
  // this page's memory only.
  let key = null, pass = "", keyName = "";
  let lastURL = null;
  const save = (bytes, name) => {
    const blob = new Blob([bytes], { type: "application/octet-stream" });
    if (lastURL) URL.revokeObjectURL(lastURL);
    lastURL = URL.createObjectURL(blob);
    const a = $("key-link");
    a.href = lastURL;
    a.download = name;
    a.click();
  };
  const fileName = (index, stage) => `${cfg.election}-trustee-${index}${stage ? "-" + stage : ""}.key`;

  const stepName = (step) => M["step." + step] || step;
  const markSteps = (steps, current) => {
    for (const li of $("trustee-steps").children) {
      const i = steps.indexOf(li.dataset.step), c = steps.indexOf(current);
      li.classList.toggle("done", i < c);
      if (li.dataset.step === current) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    }
  };

  const waitingText = (d) => {
    if (d.waiting === "tally") return t("wait.tally");
    return t("wait.round", d.have, d.need, M["round." + d.waiting] || d.waiting);
  };

  // showDue shows the step the opened key file is at.
  const showDue = (st) => {
    const d = st.due;
    $("due").hidden = false;
    $("keygen").hidden = true;
    $("due-who").textContent = t("who", st.index, st.name || "—");
    $("due-text").textContent = t("due", d.number, d.total, stepName(d.step));
    markSteps(st.steps, d.step);
    $("run").hidden = !!d.waiting;
    $("due-detail").textContent = d.waiting ? waitingText(d) : M["detail." + d.step] || "";
    if (st.pinned) $("due-detail").textContent += " " + t("pinned", st.pinned);
    status(d.waiting ? t("status.waiting", stepName(d.step)) : t("status.ready", d.number, d.total, stepName(d.step)));
  };

  const refresh = async () => {
    const st = await koeTrustee.status({ election: cfg.election, token: token(), key, passphrase: pass });
    showDue(st);
    return st;
  };

  // report puts what a step did in words.
  const report = (r) => {
    const out = [];
    const d = r.due;
    switch (d.step) {
      case "keygen": out.push(t("did.keygen", r.index)); break;
      case "deal": out.push(t("did.deal")); break;
      case "shares":
        if (!r.complaints || !r.complaints.length) out.push(t("did.shares.ok"));
        for (const c of r.complaints || []) out.push(t("did.shares.complaint", c.Against, c.Reason));
        break;
      case "respond": out.push(r.against && r.against.length ? t("did.respond.against", r.against.length, r.responses) : t("did.respond.none")); break;
      case "finish": out.push(t("did.finish", r.qual.join(", "), r.jointKey.slice(0, 16))); break;
      default:
        out.push(t("did.checked", r.checks, r.ballots));
        for (const o of r.mixed || []) {
          if (o.What === "posted") out.push(t("did.mix.posted", o.Question, o.Round, o.Answers));
          else if (o.What === "already") out.push(t("did.mix.already", o.Question, o.Round));
          else out.push(t("did.mix.complete", o.Question));
        }
        out.push(r.already ? t("did.decrypt.already") : t("did.decrypt", r.ballots));
        for (const o of r.mixShares || []) {
          if (o.What === "posted") out.push(t("did.mixdec.posted", o.Question, o.Answers, (o.Mixers || []).join(", ")));
          else if (o.What === "already") out.push(t("did.mixdec.already", o.Question));
          else out.push(t("did.mixdec.incomplete", o.Question, o.Round));
        }
    }
    const list = $("result-list");
    list.replaceChildren(...out.map((s) => { const li = document.createElement("li"); li.textContent = s; return li; }));
    $("result").hidden = false;
  };

  const keySaved = (name) => {
    $("key-saved").hidden = false;
    $("key-saved-title").textContent = t("key.saved", name);
    $("key-saved-detail").textContent = M["key.saved.detail"];
  };

  const run = async (f) => {
    clearError();
    setBusy(true);
    try { await f(); } catch (e) { showError(e); } finally { setBusy(false); progress(""); }
  };

  $("keygen-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run(async () => {
      const index = Number($("index").value), p1 = $("new-pass").value, p2 = $("new-pass2").value;
      const who = $("name").value.trim();
      if (!who) { $("name").focus(); throw new Error(M["err.name"]); }
      if (p1.length < 8) { $("new-pass").focus(); throw new Error(M["err.pass.short"]); }
      if (p1 !== p2) { $("new-pass2").focus(); throw new Error(M["err.pass.differ"]); }
      status(t("status.keygen"));
      const name = fileName(index, "");
      let sealed = null;
      const r = await koeTrustee.keygen({
        election: cfg.election, token: token(), index, name: who, passphrase: p1,
        keep: (bytes) => { sealed = bytes; save(bytes, name); },
      });
      key = sealed; pass = p1; keyName = name;
      report(r);
      keySaved(name);
      $("new-pass").value = $("new-pass2").value = "";
      await refresh();
      $("result-h").focus();
    });
  });

  $("open-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run(async () => {
      const file = $("key-file").files[0];
      if (!file) { $("key-file").focus(); throw new Error(M["err.nofile"]); }
      key = new Uint8Array(await file.arrayBuffer());
      pass = $("open-pass").value;
      keyName = file.name;
      status(t("status.opening"));
      await refresh();
      $("due-h").focus();
    });
  });

  $("run").addEventListener("click", () => {
    run(async () => {
      const st0 = await refresh();
      if (st0.due.waiting) return;
      status(t("status.running", st0.due.number, st0.due.total, stepName(st0.due.step)));
      const out = await koeTrustee.step({
        election: cfg.election, token: token(), key, passphrase: pass,
        progress: (text, done, total) => progress(total ? t("progress.count", text, done, total) : t("progress.step", text)),
      });
      if (out.newKey) {
        key = out.newKey;
        keyName = fileName(st0.index, st0.due.step === "shares" ? "shares" : "final");
        save(key, keyName);
        keySaved(keyName);
      }
      if (out.report) report(out.report);
      if (out.error) { const e = new Error(out.error); e.hint = out.hint; throw e; }
      await refresh();
      $("result-h").focus();
    });
  });

  // Load the program.
  globalThis.koeTrusteeReady = () => {
    setBusy(false);
    status(M["status.loaded"]);
  };
  const go = new Go();
  WebAssembly.instantiateStreaming(fetch(cfg.program), go.importObject)
    .then((r) => go.run(r.instance))
    .catch((e) => { status(M["status.failed"]); showError(e); });
})();
