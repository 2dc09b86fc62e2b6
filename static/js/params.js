// Parameter forms (templates/schema/_parameter_form.html): slider and number box kept in step,
// Reset back to "not set", Insert example into a JSON editor. Event delegation on the document,
// so controls swapped in by htmx work too. No inline script anywhere: the CSP forbids it.
"use strict";

(() => {
  const sliderFor = (controlId) =>
    document.querySelector(`input[type="range"][data-param-for="${CSS.escape(controlId)}"]`);

  const markSet = (control) => {
    const param = control.closest(".param");
    if (param) param.classList.toggle("is-set", control.value.trim() !== "");
  };

  // Let listeners (htmx triggers, autosave) see a change made by a button.
  const announce = (control) => {
    control.dispatchEvent(new Event("input", { bubbles: true }));
    control.dispatchEvent(new Event("change", { bubbles: true }));
  };

  document.addEventListener("input", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    if (target.matches('input[type="range"][data-param-for]')) {
      const box = document.getElementById(target.dataset.paramFor);
      if (box) {
        box.value = target.value;
        announce(box);
      }
      return;
    }
    if (target.matches("[data-param-control]")) {
      const slider = sliderFor(target.id);
      const number = Number(target.value);
      if (slider && target.value.trim() !== "" && Number.isFinite(number)) slider.value = String(number);
      markSet(target);
    }
  });

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target instanceof HTMLSelectElement && target.matches("[data-param-control]")) markSet(target);
  });

  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    const reset = event.target.closest("[data-param-reset]");
    if (reset) {
      const control = document.getElementById(reset.dataset.paramReset);
      if (!control) return;
      control.value = reset.dataset.resetValue || "";
      const slider = sliderFor(control.id);
      if (slider && slider.dataset.rest !== undefined) slider.value = slider.dataset.rest;
      announce(control);
      control.focus();
      return;
    }
    const insert = event.target.closest("[data-param-example]");
    if (insert) {
      const editor = document.getElementById(insert.dataset.paramExample);
      if (!editor) return;
      editor.value = insert.dataset.example || "";
      announce(editor);
      editor.focus();
    }
  });
})();
