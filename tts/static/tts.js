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

// Conditional reveals on radios: show the fields that belong to the chosen answer. Done here rather than by
// govuk-frontend so that no radio carries aria-expanded, which ARIA does not allow on a radio
// (govuk-frontend#979); the fields follow their radio in reading order and are announced when reached.
document.querySelectorAll("[data-tts-reveals]").forEach((group) => {
  const inputs = group.querySelectorAll("input[type=radio]");
  const sync = () => inputs.forEach((input) => {
    const target = input.dataset.ttsReveal && document.getElementById(input.dataset.ttsReveal);
    if (target) target.classList.toggle("govuk-radios__conditional--hidden", !input.checked);
  });
  inputs.forEach((input) => {
    if (input.dataset.ttsReveal) input.setAttribute("aria-controls", input.dataset.ttsReveal);
    input.addEventListener("change", sync);
  });
  window.addEventListener("pageshow", sync);
  sync();
});

// Keyboard shortcuts (call screen, My work): one key, no modifier, only when the user is not typing in a box,
// and they can be turned off (WCAG 2.1.4). The keys are listed on the page.
const shortcutArea = document.querySelector("[data-shortcuts]");
if (shortcutArea) {
  const OFF = "tts-shortcuts-off";
  const isOff = () => { try { return localStorage.getItem(OFF) === "1"; } catch (e) { return false; } };
  const offBox = shortcutArea.querySelector("[data-shortcuts-off]");
  if (offBox) {
    offBox.checked = isOff();
    offBox.addEventListener("change", () => {
      try { localStorage.setItem(OFF, offBox.checked ? "1" : "0"); } catch (e) { /* private browsing */ }
    });
  }
  const typing = (el) => el && (el.isContentEditable ||
    el.matches("textarea, select, input:not([type=radio]):not([type=checkbox]):not([type=submit]):not([type=button])"));
  document.addEventListener("keydown", (event) => {
    if (isOff() || event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) return;
    const dialog = document.getElementById("session-timeout");
    if (dialog && !dialog.hidden) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (!key || !/^[a-z0-9]$/.test(key)) return;
    const el = shortcutArea.querySelector(`[data-shortcut="${key}"]`);
    if (!el) return;
    event.preventDefault();
    if (el.matches("input[type=radio], input[type=checkbox]")) {
      el.checked = true;
      el.dispatchEvent(new Event("change", { bubbles: true }));
      el.focus();
    } else if (el.matches("details")) {
      el.open = true;
      const target = el.querySelector(el.dataset.shortcutFocus || "summary");
      if (target) target.focus();
    } else {
      el.click();
    }
  });
}

// Tables on narrow screens (WCAG 1.4.10 reflow): each table sits in its own region that scrolls sideways, so the
// page never does. When a table is wider than the screen its region can be focused and scrolled with the arrow
// keys, and is named after the table's caption.
// Wide tables marked tts-stack-on-phone instead become one block per row on a phone, each cell labelled with its
// column's heading (copied here from the table's head into data-label, which the stylesheet shows).
let tableCount = 0;
function labelCells(table) {
  const headings = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
  table.querySelectorAll("tbody tr").forEach((row) => {
    Array.from(row.children).forEach((cell, i) => {
      if (headings[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", headings[i]);
    });
  });
}
function wrapTables(root) {
  root.querySelectorAll("table.govuk-table").forEach((table) => {
    if (table.classList.contains("tts-stack-on-phone")) labelCells(table);
    if (table.parentElement.classList.contains("tts-scroll")) return;
    const index = tableCount++;
    const region = document.createElement("div");
    region.className = "tts-scroll";
    table.parentNode.insertBefore(region, table);
    region.appendChild(table);
    const caption = table.querySelector("caption");
    const sync = () => {
      if (region.scrollWidth > region.clientWidth + 1) {
        region.setAttribute("tabindex", "0");
        region.setAttribute("role", "region");
        if (caption) {
          caption.id = caption.id || `table-caption-${index}`;
          region.setAttribute("aria-labelledby", caption.id);
        } else {
          region.setAttribute("aria-label", "Table");
        }
      } else {
        ["tabindex", "role", "aria-labelledby", "aria-label"].forEach((name) => region.removeAttribute(name));
      }
    };
    sync();
    window.addEventListener("resize", sync);
    // The table can widen after this runs (the web fonts arriving, a cell filled in): check again then.
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(sync);
    if (window.ResizeObserver) {
      const watch = new ResizeObserver(sync);
      watch.observe(table);
      watch.observe(region);
    }
  });
}
wrapTables(document);
document.body.addEventListener("htmx:afterSwap", (event) => wrapTables(event.target));

// Self-updating panels (the supervisor dashboard): refreshed every few seconds while their checkbox is ticked,
// never while the keyboard focus is inside them (a swap would lose the user's place).
document.querySelectorAll("[data-refresh-target]").forEach((box) => {
  const panel = document.querySelector(box.dataset.refreshTarget);
  const seconds = parseInt(box.dataset.refreshSeconds || "30", 10);
  setInterval(() => {
    if (box.checked && window.htmx && !panel.contains(document.activeElement)) window.htmx.trigger(panel, "tts:refresh");
  }, seconds * 1000);
});

// Everything above is wired up (the browser tests wait for this before pressing shortcut keys).
document.documentElement.dataset.ttsReady = "1";
