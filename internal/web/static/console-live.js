// console-live.js keeps the live part of a console election page (#live,
// templates/console-parts.html) up to date while something is in progress:
// every data-refresh seconds it fetches the part again from data-live and
// puts it in place. It pauses while the tab is hidden and while the
// administrator is busy with a form or with the part itself (focus inside
// it), so nothing typed or chosen is ever lost; it says what changed in a
// polite live region (#live-status), and that the page's actions are out
// of date when the election's state changed (#live-stale). Without script
// the page does not refresh: it links to the same part on a page of its
// own (no forms there) that refreshes with <meta http-equiv="refresh">.
(() => {
  "use strict";
  const live = document.getElementById("live");
  if (!live || !live.dataset.live) return;
  const status = document.getElementById("live-status");
  const stale = document.getElementById("live-stale");
  const state = live.dataset.state;
  let timer = 0;

  // busy: the administrator is in a form, has changed one, or is reading
  // the live part with the keyboard.
  function busy() {
    const a = document.activeElement;
    if (a && a !== document.body && (live.contains(a) || a.closest("form"))) return true;
    for (const f of document.forms) {
      for (const el of f.elements) {
        if (el.type === "hidden" || el.type === "submit" || el.type === "button") continue;
        if (el.type === "file" ? el.files && el.files.length > 0
          : el.type === "checkbox" || el.type === "radio" ? el.checked !== el.defaultChecked
          : el.tagName === "SELECT" ? [...el.options].some((o) => o.selected !== o.defaultSelected)
          : "defaultValue" in el && el.value !== el.defaultValue) return true;
      }
    }
    return false;
  }

  function schedule() {
    clearTimeout(timer);
    timer = 0;
    const every = Number(live.dataset.refresh);
    if (every > 0 && !document.hidden) timer = setTimeout(tick, every * 1000);
  }

  function say(text) {
    if (!status || !text) return;
    // A new text node, so that the same words said twice are said again.
    status.textContent = "";
    setTimeout(() => { status.textContent = text; }, 50);
  }

  function put(next) {
    const summary = (el) => (el.querySelector("#live-summary") || {}).textContent || "";
    const before = summary(live);
    // Keep open what the administrator opened (the turnout's table).
    const open = [...live.querySelectorAll("details")].map((d) => d.open);
    live.replaceChildren(...[...next.childNodes].map((n) => document.importNode(n, true)));
    live.querySelectorAll("details").forEach((d, i) => { if (open[i]) d.open = true; });
    if (next.dataset.refresh) live.dataset.refresh = next.dataset.refresh;
    else delete live.dataset.refresh;
    live.dataset.state = next.dataset.state;
    const after = summary(live);
    let words = after !== before ? after : "";
    if (next.dataset.state !== state && stale && stale.hidden) {
      stale.hidden = false;
      words = (stale.textContent.trim() + " " + words).trim();
    }
    say(words);
  }

  async function tick() {
    timer = 0;
    if (document.hidden) return; // visibilitychange starts again
    if (!busy()) {
      try {
        const r = await fetch(live.dataset.live, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } });
        if (r.ok && r.headers.get("Content-Type").startsWith("text/html")) {
          const doc = new DOMParser().parseFromString(await r.text(), "text/html");
          const next = doc.getElementById("live");
          if (next && !busy()) put(next);
        }
      } catch (e) {
        // Offline or the server restarting: try again at the next tick.
      }
    }
    schedule();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = 0;
    } else if (!timer) {
      tick();
    }
  });
  schedule();
})();
