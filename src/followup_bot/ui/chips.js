// Citation chips: a click on a marker in an answer opens its passage in the evidence panel.
// Chips are plain fragment links (#fb-src-<answer>-<marker>), so they work without this file;
// this adds what a bare fragment cannot: open folded answers, scroll smoothly inside the panel,
// and highlight the passage. One delegated listener survives Gradio re-rendering the chat.
(function () {
  if (window.__fbChips) return;
  window.__fbChips = true;

  function reveal(id) {
    var target = document.getElementById(id);
    if (!target) return false;
    for (var node = target.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    document.querySelectorAll(".fb-passage.fb-active").forEach(function (el) {
      el.classList.remove("fb-active");
    });
    target.classList.add("fb-active");
    target.scrollIntoView({ behavior: "smooth", block: "start" });
    try { target.focus({ preventScroll: true }); } catch (e) { /* old browsers */ }
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.fb-chip, a.fb-jump");
    if (!link) return;
    var href = link.getAttribute("href") || "";
    if (href.charAt(0) !== "#") return;
    event.preventDefault();
    event.stopPropagation();
    reveal(href.slice(1));
  }, true);
})();
