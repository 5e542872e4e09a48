// qc console: the CSRF header on every change, JSON forms, messages. No framework beyond htmx.
(function () {
  "use strict";

  function token() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function flash(message, ok) {
    const box = document.getElementById("flash");
    if (!box) return;
    box.textContent = message;
    box.className = ok ? "ok" : "error";
    box.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { box.hidden = true; }, ok ? 2500 : 8000);
  }

  function detailOf(data, response) {
    if (data && typeof data.detail === "string") return data.detail;
    if (data && Array.isArray(data.detail)) {
      return data.detail.map(function (d) { return (d.loc || []).slice(1).join(".") + ": " + d.msg; }).join("; ");
    }
    return response.status + " " + response.statusText;
  }

  async function api(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok) throw new Error(detailOf(data, response));
    return data;
  }

  function refresh(what) {
    if (what === "panel" && window.qcRefreshPanel) return window.qcRefreshPanel();
    window.location.reload();
    return Promise.resolve();
  }

  function formJSON(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled) continue;
      let value = el.value;
      if (el.type === "number") value = value === "" ? null : Number(value);
      else if (value === "") value = null;
      out[el.name] = value;
    }
    return out;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = token();
  });

  document.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    let data = null;
    try { data = JSON.parse(xhr.responseText); } catch (_) { data = null; }
    flash(data && data.detail ? String(data.detail) : xhr.status + " " + xhr.statusText);
  });

  document.addEventListener("submit", async function (event) {
    const form = event.target.closest("form[data-api]");
    if (!form) return;
    event.preventDefault();
    try {
      await api("POST", form.dataset.api, formJSON(form));
      flash("已保存", true);
      await refresh(form.dataset.refresh);
    } catch (err) {
      flash(err.message);
    }
  });

  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-post]");
    if (!button) return;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    try {
      await api("POST", button.dataset.post);
      flash("已完成", true);
      await refresh(button.dataset.refresh);
    } catch (err) {
      flash(err.message);
    }
  });

  window.qc = { api: api, flash: flash, refresh: refresh, token: token };
})();
