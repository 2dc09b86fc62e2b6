// The provider form: show only the header boxes of the chosen profile. Without this script
// every profile's boxes show, each under its profile's name, and only the chosen one's count.
"use strict";

(() => {
  const sync = (select) => {
    for (const group of select.form.querySelectorAll(".profile-headers[data-profile]")) {
      group.hidden = group.dataset.profile !== select.value;
    }
  };
  for (const select of document.querySelectorAll('select[name="profile"]')) {
    if (!select.form) continue;
    sync(select);
    select.addEventListener("change", () => sync(select));
  }
})();
