// The images page (templates/images/gallery.html): while a picture is being made the workspace is
// marked busy and "Generating…" is announced; when the answer is swapped in, focus moves to what
// it says (the error beside the form, or the note about the new pictures). No inline script: CSP.
"use strict";

(() => {
  const workspace = () => document.getElementById("image-workspace");

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "image-form") return;
    workspace()?.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.target instanceof HTMLFormElement && event.target.id === "image-form") {
      workspace()?.removeAttribute("aria-busy");
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (!(event.target instanceof Element) || event.target.id !== "image-workspace") return;
    const message = document.getElementById("generate-error") || document.getElementById("image-result");
    const invalid = document.querySelector("#image-form [aria-invalid='true'], #image-form .has-error :is(input, select, textarea)");
    (message || invalid)?.focus();
  });
})();
