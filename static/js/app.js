// Small behaviours for every page. No inline script anywhere: the CSP forbids it.
"use strict";

document.addEventListener("click", (event) => {
  const dismiss = event.target.closest(".notice-dismiss");
  if (dismiss) {
    dismiss.closest(".notice").remove();
    const main = document.getElementById("main");
    if (main) main.focus();
  }
});
