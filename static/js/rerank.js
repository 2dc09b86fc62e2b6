// The rerank page (templates/embeddings/rerank.html): while the provider ranks, the workspace is
// marked busy and the progress note is announced; when the answer is swapped in, focus moves to
// the ranking, or to the first problem beside the form. No inline script: the CSP forbids it.
"use strict";

(() => {
  let focusAfterSwap = false;

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (!(event.detail.elt instanceof HTMLElement) || event.detail.elt.id !== "rerank-form") return;
    document.getElementById("rerank-workspace")?.setAttribute("aria-busy", "true");
    focusAfterSwap = true;
    // Screen readers announce a live region when its text changes, not when it is shown.
    const progress = document.getElementById("rerank-progress");
    if (progress) {
      const text = progress.textContent;
      progress.textContent = "";
      requestAnimationFrame(() => {
        progress.textContent = text;
      });
    }
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt instanceof HTMLElement && event.detail.elt.id === "rerank-form") {
      document.getElementById("rerank-workspace")?.removeAttribute("aria-busy");
    }
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    // Only the form's own answer: a provider's settings arriving meanwhile leave focus alone.
    if (!focusAfterSwap || event.detail.requestConfig?.elt?.id !== "rerank-form") return;
    focusAfterSwap = false;
    const problem = document.querySelector(
      "#rerank-form .form-errors, #rerank-form .has-error :is(input, select, textarea)"
    );
    const target = problem || document.getElementById("ranking-heading");
    if (target instanceof HTMLElement) {
      if (target.classList.contains("form-errors")) target.tabIndex = -1;
      target.focus();
    }
  });
})();
