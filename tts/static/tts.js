// TTS page behaviour. No inline script anywhere: the Content-Security-Policy allows only files from this site.
import { initAll } from "./govuk/govuk-frontend.min.js";

initAll();

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

function post(url, body) {
  const headers = { "X-CSRFToken": csrfToken(), "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(url, { method: "POST", credentials: "same-origin", headers,
                      body: body === undefined ? undefined : JSON.stringify(body) });
}

// Keep a tracer's claims alive while the call screen is open, so a long call never loses them.
document.querySelectorAll("[data-heartbeat-url]").forEach((el) => {
  setInterval(() => post(el.dataset.heartbeatUrl), 60000);
});

// SMS template editor: live preview of the text, its length and segments.
document.querySelectorAll("textarea[data-preview-url]").forEach((box) => {
  let timer = null;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      post(box.dataset.previewUrl, { body: box.value })
        .then((r) => r.json())
        .then((p) => {
          document.getElementById("preview-text").textContent = p.errors.length ? p.errors.join(" ") : p.text;
          document.getElementById("preview-count").textContent = p.characters + " characters: " + p.segments +
            " text message" + (p.segments === 1 ? "" : "s") + " (" + p.encoding + ")";
        });
    }, 250);
  });
});

// Session time-out warning (WCAG 2.2.1): a few minutes before an idle sign-out, say so and offer more time.
const timeout = document.getElementById("session-timeout");
if (timeout) {
  const statusUrl = timeout.dataset.statusUrl;
  const extendUrl = timeout.dataset.extendUrl;
  const loginUrl = timeout.dataset.loginUrl;
  const minutesText = timeout.querySelector("[data-minutes]");
  let timer = null;
  const check = () => {
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then((r) => (r.redirected || !r.ok ? null : r.json()))
      .then((s) => {
        if (!s || s.seconds_left === null || s.seconds_left <= 0) {
          window.location.assign(loginUrl);
          return;
        }
        const warn = s.seconds_left <= s.warn_seconds;
        if (warn) {
          const minutes = Math.max(1, Math.ceil(s.seconds_left / 60));
          minutesText.textContent = minutes + " minute" + (minutes === 1 ? "" : "s");
          if (timeout.hidden) {
            timeout.hidden = false;
            timeout.querySelector("button").focus();
          }
        } else {
          timeout.hidden = true;
        }
        clearTimeout(timer);
        timer = setTimeout(check, Math.min(60, Math.max(5, s.seconds_left - s.warn_seconds)) * 1000);
      })
      .catch(() => { timer = setTimeout(check, 30000); });
  };
  timeout.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    post(extendUrl).then(() => { timeout.hidden = true; check(); });
  });
  check();
}
