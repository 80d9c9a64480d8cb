// OpenLFR console behaviour: login, logout, the live alert stream, keyboard shortcuts and
// drag-and-drop enrolment. Everything else is server-rendered HTML swapped in by htmx.
(function () {
  "use strict";
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  async function api(method, url, body) {
    const headers = { "X-CSRF-Token": csrf() };
    let payload = body;
    if (body && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const r = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { ok: r.ok, status: r.status, data };
  }

  // -- login and logout ------------------------------------------------------------------
  function setupLogin() {
    const form = document.getElementById("login-form");
    if (!form) return;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const msg = document.getElementById("login-message");
      msg.textContent = "";
      const r = await api("POST", "/api/auth/login", {
        username: form.username.value.trim(), password: form.password.value,
      });
      if (r.ok) {
        const next = form.dataset.next || "/console";
        window.location.assign(next.startsWith("/console") ? next : "/console");
      } else {
        msg.textContent = (r.data && r.data.message) || "Login failed.";
        form.password.value = "";
        form.password.focus();
      }
    });
  }

  function setupLogout() {
    const b = document.getElementById("logout");
    if (!b) return;
    b.addEventListener("click", async () => {
      await api("POST", "/api/auth/logout");
      window.location.assign("/console/login");
    });
  }

  // -- the live alert queue ----------------------------------------------------------------
  function setupStream() {
    const queue = document.getElementById("queue");
    if (!queue || !window.EventSource) return;
    const state = document.getElementById("stream-state");
    const source = new EventSource(queue.dataset.stream);
    source.onopen = () => { state.textContent = "Live: new alerts appear here."; state.classList.add("connected"); };
    source.onerror = () => { state.textContent = "Alert stream interrupted; reconnecting…"; state.classList.remove("connected"); };
    source.addEventListener("alert", (ev) => {
      const alert = JSON.parse(ev.data);
      if (!alert.id || document.getElementById("alert-" + alert.id)) return;
      const empty = document.getElementById("queue-empty");
      if (empty) empty.remove();
      htmx.ajax("GET", "/console/alerts/" + encodeURIComponent(alert.id) + "/card",
        { target: "#queue", swap: "afterbegin" }).then(() => {
          countPending();
          document.body.dispatchEvent(new CustomEvent("alert-raised", { detail: alert }));
        });
    });
  }

  function countPending() {
    const n = document.getElementById("pending-count");
    if (n) n.textContent = document.querySelectorAll(".alert-card.pending").length;
  }

  // -- keyboard: j/k move between alerts, the keys on the buttons act on the focused one ---
  function cards() { return Array.from(document.querySelectorAll(".alert-card")); }

  function currentCard() {
    const active = document.activeElement && document.activeElement.closest(".alert-card");
    return active || document.querySelector(".alert-card.pending") || cards()[0] || null;
  }

  function setupKeys() {
    document.addEventListener("keydown", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const t = ev.target;
      if (t && (t.matches("input, textarea, select") || t.isContentEditable)) return;
      if (!document.getElementById("queue")) return;
      const key = ev.key.toLowerCase();
      const all = cards();
      const card = currentCard();
      if (key === "j" || key === "k") {
        if (!all.length) return;
        const i = card ? all.indexOf(card) : -1;
        const next = all[Math.min(all.length - 1, Math.max(0, i + (key === "j" ? 1 : -1)))];
        next.focus();
        ev.preventDefault();
        return;
      }
      if (!card) return;
      const button = card.querySelector('button[data-key="' + key + '"]');
      if (button) { ev.preventDefault(); button.click(); }
    });
    // After a decision the card is swapped for a new one: keep the focus on it and tell
    // the counters. (The old card has left the page, so listen for the new content.)
    let deciding = null;
    document.body.addEventListener("htmx:beforeRequest", (ev) => {
      const card = ev.target.closest && ev.target.closest(".alert-card");
      if (card) deciding = card.id;
    });
    htmx.onLoad((el) => {
      if (!el.classList || !el.classList.contains("alert-card")) return;
      countPending();
      if (el.id === deciding) {
        deciding = null;
        el.focus();
        document.body.dispatchEvent(new CustomEvent("alert-decided"));
      }
    });
  }

  // -- enrolment: drag and drop images, then subject -> images -> watchlist via the API ----
  function setupEnrol() {
    const form = document.getElementById("enrol-form");
    if (!form) return;
    const zone = document.getElementById("dropzone");
    const input = document.getElementById("images");
    const chosen = document.getElementById("chosen");
    const results = document.getElementById("enrol-results");
    let files = [];

    function show() {
      chosen.innerHTML = "";
      files.forEach((f) => { const li = document.createElement("li"); li.textContent = f.name; chosen.appendChild(li); });
    }
    function add(list) {
      for (const f of list) if (/^image\/(jpeg|png)$/.test(f.type)) files.push(f);
      show();
    }
    zone.addEventListener("click", () => input.click());
    zone.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); input.click(); } });
    input.addEventListener("change", () => add(input.files));
    ["dragenter", "dragover"].forEach((n) => zone.addEventListener(n, (ev) => { ev.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((n) => zone.addEventListener(n, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (ev) => { ev.preventDefault(); add(ev.dataTransfer.files); });

    function line(cls, text) {
      const li = document.createElement("li");
      li.className = cls; li.textContent = text; results.appendChild(li); return li;
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      results.innerHTML = "";
      if (!files.length) { line("bad", "Add at least one image."); return; }
      if (!form.expires.value) { line("bad", "The expiry date is required."); return; }
      const subject = {
        display_name: form.display_name.value.trim(),
        category: form.category.value,
        expires_at: form.expires.value + "T23:59:59Z",
      };
      if (form.offence.value.trim()) subject.offence = form.offence.value.trim();
      const made = await api("POST", "/api/subjects", subject);
      if (!made.ok) { line("bad", "Subject not created: " + ((made.data && made.data.message) || made.status)); return; }
      const sid = made.data.id;
      let enrolled = 0;
      for (const f of files) {
        const fd = new FormData();
        fd.append("file", f, f.name);
        fd.append("image_source", form.image_source.value.trim());
        fd.append("legal_basis", form.legal_basis.value.trim());
        const r = await api("POST", "/api/subjects/" + sid + "/images", fd);
        if (r.ok) {
          enrolled += 1;
          const q = r.data.quality === null ? "" : " (quality " + r.data.quality.toFixed(2) + ")";
          line("ok", f.name + ": enrolled" + q);
          for (const d of r.data.duplicates || []) {
            line("warn", "Possible duplicate: this face matches " + d.display_name + " (similarity " + d.score.toFixed(3) + ")");
          }
        } else {
          line("bad", f.name + ": " + ((r.data && r.data.message) || ("refused (" + r.status + ")")));
        }
      }
      if (!enrolled) { line("bad", "No usable image: the subject was not added to the watchlist."); return; }
      const m = await api("POST", "/api/watchlists/" + form.dataset.watchlist + "/members", { subject_id: sid });
      if (m.ok) {
        line("ok", subject.display_name + " added to the watchlist.");
        files = []; show(); form.reset();
        document.body.dispatchEvent(new CustomEvent("enrolled"));
      } else {
        line("bad", "Not added to the watchlist: " + ((m.data && m.data.message) || m.status));
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupLogin(); setupLogout(); setupStream(); setupKeys(); setupEnrol();
  });
})();
