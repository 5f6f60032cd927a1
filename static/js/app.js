// Service Balance: progressive enhancement only. Every page works without this file.
"use strict";

// Forms marked data-confirm ask before they are sent (e.g. final submission).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
