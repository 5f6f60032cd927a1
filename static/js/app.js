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

// Autosave. The questions changed since their last save ("dirty") are sent together to
// the form's data-autosave address: after a pause of PAUSE_MS since the last change, when
// focus leaves the questions (or a comment that was edited), and when the page is hidden.
// Only the changed questions are posted, each with the revision its answer was read at
// (the hidden input in its status fragment); the reply holds each one's new status
// fragment, which is swapped in by id and carries its new revision.
const questionnaire = document.querySelector("form.questionnaire[data-autosave]");
const PAUSE_MS = 1500;
const WAIT_AT_MOST_MS = 8000;
// Browsers refuse a keepalive request or a beacon over 64 KiB.
const KEEPALIVE_MAX_BYTES = 60000;
const dirty = new Set(); // question ids changed since their last save
// Answered with a conflict or a problem: the person is shown why; sent again once changed
// (and, so that nothing typed is lost, when the page goes away).
const held = new Set();
const edits = new Map(); // question id -> a count of its changes, to tell a change in flight
const typed = new Set(); // questions whose comment was typed in since their last send
let pauseTimer = null;
// The batches in flight, each {ids: Map(question id -> its edit count when sent), keepalive}.
// One at a time, but for the page being hidden, which cannot wait.
const flights = new Set();
let sendAgain = false; // a send was asked for while a batch was in flight
let waiting = null; // {form, submitter, timer} of a submit held until the batch is back

function fieldset(id) {
  return document.getElementById("question-" + id);
}

// One question's fields as the page form names them (q<pk>-level, -comment, -revision).
function appendFields(data, id) {
  const element = fieldset(id);
  if (!element) return;
  for (const input of element.querySelectorAll("input, textarea")) {
    if (input.type === "radio" && !input.checked) continue;
    if (input.name) data.append(input.name, input.value);
  }
}

function payload(ids) {
  const data = new URLSearchParams();
  const field = questionnaire.querySelector("input[name=csrfmiddlewaretoken]");
  data.append("csrfmiddlewaretoken", csrfToken() || (field ? field.value : ""));
  for (const id of ids) appendFields(data, id);
  return data;
}

// The questions to send now: dirty, not held, and not already in flight unchanged (by a
// keepalive request only, when the page is going away: any other is cancelled with it).
function toSend({ leaving = false } = {}) {
  return [...dirty].filter((id) => {
    if (held.has(id) && !leaving) return false;
    for (const flight of flights) {
      if ((flight.keepalive || !leaving) && flight.ids.get(id) === edits.get(id)) return false;
    }
    return true;
  });
}

function sendBatch({ keepalive = false } = {}) {
  window.clearTimeout(pauseTimer);
  if (!questionnaire) return;
  if (flights.size && !keepalive) {
    sendAgain = true;
    return;
  }
  const ids = toSend();
  if (!ids.length) return;
  const body = payload(ids);
  keepalive = keepalive && body.toString().length < KEEPALIVE_MAX_BYTES;
  const batch = { ids: new Map(ids.map((id) => [id, edits.get(id)])), keepalive };
  for (const id of ids) typed.delete(id);
  flights.add(batch);
  fetch(questionnaire.dataset.autosave, {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { "X-CSRFToken": body.get("csrfmiddlewaretoken") },
    keepalive,
  })
    .then((response) => response.text().then((text) => settle(batch, response, text)))
    .catch(() => notSaved(batch.ids.keys(), document.body.dataset.msgOffline))
    .finally(() => {
      flights.delete(batch);
      if (sendAgain && !flights.size) {
        sendAgain = false;
        sendBatch();
      }
      sendWaiting();
    });
}

// Swap in each question's status fragment (200: each answer handled; 400: the batch was
// refused, or every answer in it had bad input; each fragment says why). Any other reply has no fragments: say "not saved".
function settle(batch, response, text) {
  if (response.status !== 200 && response.status !== 400) {
    const expired = response.status === 403 || response.status === 404;
    const body = document.body.dataset;
    notSaved(batch.ids.keys(), expired ? body.msgExpired : body.msgFailed);
    return;
  }
  const saved = new Set((response.headers.get("X-Answers-Saved") || "").split(" "));
  const template = document.createElement("template");
  template.innerHTML = text;
  const missing = [];
  for (const [id, edit] of batch.ids) {
    const fragment = template.content.getElementById("status-q" + id);
    const current = document.getElementById("status-q" + id);
    if (!fragment || !current) {
      missing.push(id);
      continue;
    }
    current.replaceWith(fragment);
    if (edits.get(id) !== edit) continue; // changed again meanwhile: still dirty
    if (saved.has(id)) {
      dirty.delete(id);
    } else {
      held.add(id);
    }
  }
  if (missing.length) notSaved(missing, document.body.dataset.msgFailed);
}

// When a save fails without an answer we can show (expired sign-in, lost connection,
// server error), say so beside each question. The input stays in the form untouched,
// and the questions stay dirty: the next batch sends them again.
function notSaved(ids, message) {
  for (const id of ids) {
    const target = document.getElementById("status-q" + id);
    if (!target) continue;
    let note = target.querySelector(".not-saved");
    if (!note) {
      note = document.createElement("span");
      note.className = "not-saved text-danger";
      target.appendChild(note);
    }
    note.textContent = message;
  }
}

function sendWaiting() {
  if (!waiting || flights.size) return;
  const { form, submitter, timer } = waiting;
  window.clearTimeout(timer);
  waiting = null;
  form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
}

function questionOf(element) {
  const question = element instanceof Element && element.closest("fieldset.question[data-question]");
  return question && questionnaire && questionnaire.contains(question) ? question : null;
}

document.addEventListener("input", (event) => {
  const question = questionOf(event.target);
  if (!question) return;
  const id = question.dataset.question;
  dirty.add(id);
  held.delete(id);
  if (event.target instanceof HTMLTextAreaElement) typed.add(id);
  edits.set(id, (edits.get(id) || 0) + 1);
  window.clearTimeout(pauseTimer);
  pauseTimer = window.setTimeout(sendBatch, PAUSE_MS);
});

// Focus leaving a question sends at once when it leaves a comment typed in (a comment takes
// a while to type), or moves to a control outside the questions (a link, a button). Not for
// the form's own submit buttons, which save the whole page, and not on a click on text or
// from one question to the next: answers chosen one after another go together, after the
// pause. Another window taking the focus sends at once too.
const CONTROLS = "a[href], button, input, select, textarea, summary";

document.addEventListener("focusout", (event) => {
  const question = questionOf(event.target);
  if (!question || !dirty.size) return;
  const next = event.relatedTarget;
  if (next instanceof Element && question.contains(next)) return;
  if (next instanceof HTMLButtonElement && next.type === "submit" && next.form === questionnaire) return;
  const typedIn = event.target instanceof HTMLTextAreaElement && typed.has(question.dataset.question);
  // A click on text moves focus to a container that can hold it (main, tabindex=-1).
  const control = next instanceof Element && next.matches(CONTROLS);
  if (typedIn || (control && questionOf(next) === null)) sendBatch();
});

window.addEventListener("blur", () => {
  if (dirty.size) sendBatch();
});

// Hidden (another tab, the phone's home screen, closing): send at once, with a keepalive
// request that outlives the page and whose reply still arrives while the page lives on.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") sendBatch({ keepalive: true });
});

// Going away for good: whatever is still unsent, held answers too, goes by beacon (its
// reply is never read).
window.addEventListener("pagehide", () => {
  if (!questionnaire) return;
  const ids = toSend({ leaving: true });
  if (ids.length) navigator.sendBeacon(questionnaire.dataset.autosave, payload(ids));
  dirty.clear();
});

// Forms marked data-confirm ask before they are sent (e.g. revoking an invitation).
// Also refresh the CSRF token from the cookie: after signing in again in another
// tab, the token printed in this page is stale, and the user's input must not be lost.
// "Save and continue" waits for the autosave in flight: it brings back the answers' new
// revisions, and the page must be sent with those, or the server would take the tab's
// own autosave for a newer answer saved elsewhere (409).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (flights.size && form === questionnaire) {
    event.preventDefault();
    if (!waiting) {
      // Never hold the page for ever: a hung autosave must not block the save.
      const timer = window.setTimeout(() => {
        flights.clear();
        sendWaiting();
      }, WAIT_AT_MOST_MS);
      waiting = { form, submitter: event.submitter, timer };
    }
    return;
  }
  const token = csrfToken();
  const field = form.querySelector("input[name=csrfmiddlewaretoken]");
  if (token && field) field.value = token;
  if (form === questionnaire) {
    // The page's own post saves every answer on it.
    window.clearTimeout(pauseTimer);
    dirty.clear();
  }
});

// htmx (elsewhere on the site): always send the current CSRF token.
document.addEventListener("htmx:configRequest", (event) => {
  const token = csrfToken();
  if (token) {
    event.detail.headers["X-CSRFToken"] = token;
    if ("csrfmiddlewaretoken" in event.detail.parameters) {
      event.detail.parameters.csrfmiddlewaretoken = token;
    }
  }
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
