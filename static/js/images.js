// The images page (templates/images/gallery.html): while a picture is being made the workspace is
// marked busy; when the answer is swapped in, focus moves to what it says (the error beside the
// form, or the note about the new pictures). After a provider switch brings that provider's form,
// focus goes back to the provider select. No inline script: the CSP forbids it.
"use strict";

(() => {
  let focusAfterSwap = null; // the id of the control to focus once the new part has settled

  document.addEventListener("htmx:beforeRequest", (event) => {
    const source = event.detail.elt;
    if (!(source instanceof HTMLElement)) return;
    if (source.id === "image-form") {
      document.getElementById("image-workspace")?.setAttribute("aria-busy", "true");
      focusAfterSwap = "generate-result";
      // Screen readers announce a live region when its text changes, not when it is shown.
      const progress = document.getElementById("image-progress");
      if (progress) {
        const text = progress.textContent;
        progress.textContent = "";
        requestAnimationFrame(() => {
          progress.textContent = text;
        });
      }
    } else if (source.closest("#image-form")) {
      focusAfterSwap = source.id;
    }
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt instanceof HTMLElement && event.detail.elt.id === "image-form") {
      document.getElementById("image-workspace")?.removeAttribute("aria-busy");
    }
  });

  document.addEventListener("htmx:afterSettle", () => {
    const wanted = focusAfterSwap;
    focusAfterSwap = null;
    if (!wanted) return;
    if (wanted !== "generate-result") {
      document.getElementById(wanted)?.focus();
      return;
    }
    const message = document.getElementById("generate-error") || document.getElementById("image-result");
    const invalid = document.querySelector("#image-form [aria-invalid='true'], #image-form .has-error :is(input, select, textarea)");
    (message || invalid)?.focus();
  });
})();
