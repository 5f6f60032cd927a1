// Service Balance: progressive enhancement only. Every page works without this file.
"use strict";

// Over HTTPS the CSRF cookie carries the __Host- prefix (see settings.HTTPS).
function csrfToken() {
  return cookie("__Host-csrftoken") || cookie("csrftoken");
}

function cookie(name) {
  const match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
  return match ? decodeURIComponent(match[1]) : "";
}

// Autosaves (htmx) on their way to the server. "Save and continue" waits for them: each
// brings back its answer's new revision (the hidden input in its status fragment), and
// the page must be sent with those, or the server would take the tab's own autosave for
// a newer answer saved elsewhere (409).
const inFlight = new Set();
let waiting = null; // {form, submitter, timer} of a submit held until the autosaves are back
const WAIT_AT_MOST_MS = 8000;

function sendWaiting() {
  if (!waiting || inFlight.size) return;
  const { form, submitter, timer } = waiting;
  window.clearTimeout(timer);
  waiting = null;
  form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
}

document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt instanceof HTMLFieldSetElement) inFlight.add(event.detail.xhr);
});

document.addEventListener("htmx:afterRequest", (event) => {
  inFlight.delete(event.detail.xhr);
  // After the current task: a queued autosave of the same question (hx-sync) starts
  // as this one ends, and is waited for too.
  window.setTimeout(sendWaiting, 0);
});

// Forms marked data-confirm ask before they are sent (e.g. revoking an invitation).
// Also refresh the CSRF token from the cookie: after signing in again in another
// tab, the token printed in this page is stale, and the user's input must not be lost.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (inFlight.size && form.classList.contains("questionnaire")) {
    event.preventDefault();
    if (!waiting) {
      // Never hold the page for ever: a hung autosave must not block the save.
      const timer = window.setTimeout(() => {
        inFlight.clear();
        sendWaiting();
      }, WAIT_AT_MOST_MS);
      waiting = { form, submitter: event.submitter, timer };
    }
    return;
  }
  const token = csrfToken();
  const field = form.querySelector("input[name=csrfmiddlewaretoken]");
  if (token && field) field.value = token;
  dirty.clear();
});

// Autosave (htmx): always send the current CSRF token.
document.addEventListener("htmx:configRequest", (event) => {
  const token = csrfToken();
  if (token) {
    event.detail.headers["X-CSRFToken"] = token;
    if ("csrfmiddlewaretoken" in event.detail.parameters) {
      event.detail.parameters.csrfmiddlewaretoken = token;
    }
  }
});

// When a save fails without an answer we can show (expired sign-in, lost connection,
// server error), say so beside the question. The input stays in the form untouched.
function showNotSaved(event, message) {
  const target = event.detail.target;
  if (!target) return;
  let note = target.querySelector(".not-saved");
  if (!note) {
    note = document.createElement("span");
    note.className = "not-saved text-danger";
    target.appendChild(note);
  }
  note.textContent = message;
}

document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status === 400 || status === 409) return; // answered with a fragment that explains
  const message = status === 403 || status === 404
    ? document.body.dataset.msgExpired
    : document.body.dataset.msgFailed;
  showNotSaved(event, message);
});

document.addEventListener("htmx:sendError", (event) => {
  showNotSaved(event, document.body.dataset.msgOffline);
});

// No answer is lost to a closed tab: questions edited since their last save are
// "dirty", and leaving the page sends them with a beacon.
const dirty = new Set();

document.addEventListener("input", (event) => {
  const fieldset = event.target.closest("fieldset[hx-post]");
  if (fieldset) dirty.add(fieldset);
});

document.addEventListener("htmx:afterRequest", (event) => {
  const fieldset = event.detail.elt;
  if (fieldset instanceof HTMLFieldSetElement && event.detail.successful) {
    dirty.delete(fieldset);
  }
});


window.addEventListener("pagehide", () => {
  const token = csrfToken();
  for (const fieldset of dirty) {
    const data = new FormData();
    data.append("csrfmiddlewaretoken", token);
    for (const input of fieldset.querySelectorAll("input, textarea")) {
      if (input.type === "radio" && !input.checked) continue;
      data.append(input.name, input.value);
    }
    navigator.sendBeacon(fieldset.getAttribute("hx-post"), data);
  }
  dirty.clear();
});

// The progress bar and this section's badge in the progress list follow the answers
// chosen on this page, as they are saved.
const BADGE_TONES = { done: "text-bg-success", partial: "text-bg-warning", todo: "text-bg-light border" };

function updateProgress() {
  const label = document.getElementById("progress-label");
  const bar = document.getElementById("overall-progress");
  if (!label || !bar) return;
  const here = new Set();
  for (const input of document.querySelectorAll("fieldset.question input[type=radio]:checked")) {
    here.add(input.name);
  }
  const answered = Number(label.dataset.answeredElsewhere) + here.size;
  bar.value = answered;
  label.textContent = label.dataset.format
    .replace("{answered}", answered)
    .replace("{total}", label.dataset.total);
  updateSectionBadge(here.size);
}

function updateSectionBadge(count) {
  const item = document.querySelector(".section-list [data-current-section]");
  const badge = item && item.querySelector(".section-badge");
  if (!badge) return;
  const list = item.closest(".section-list");
  const total = Number(item.dataset.total);
  const state = count === 0 ? "todo" : count >= total ? "done" : "partial";
  badge.textContent = state === "partial"
    ? list.dataset.partial.replace("{answered}", count).replace("{total}", total)
    : list.dataset[state];
  badge.className = "badge section-badge " + BADGE_TONES[state];
  item.classList.remove("section-todo", "section-partial", "section-done");
  item.classList.add("section-" + state);
}

document.addEventListener("change", (event) => {
  if (event.target.matches("fieldset.question input[type=radio]")) updateProgress();
});
