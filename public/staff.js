// Keyboard for the staff console (progressive enhancement: every page
// works without it, by Tab and Enter like any form).
// "/" goes to the search box (on any console page; from another page it
// opens the search page with the box focused). On the results, Enter
// opens the first result when nothing else has the focus.
(() => {
  const typing = (el) =>
    el instanceof HTMLElement &&
    (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  const box = document.getElementById("q");
  if (box && location.hash === "#q") box.focus();
  document.querySelectorAll("[data-keys-hint]").forEach((hint) => { hint.hidden = false; });
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (e.key === "/") {
      e.preventDefault();
      if (box) {
        box.focus();
        box.select();
      } else {
        location.href = "/staff#q";
      }
    } else if (e.key === "Enter" && (e.target === document.body || e.target === document.documentElement)) {
      const first = document.querySelector(".hits .hit-name");
      if (first) {
        e.preventDefault();
        first.click();
      }
    }
  });
})();
