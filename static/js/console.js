// Small conveniences of every dashboard page. Everything works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A "Copy" button copies the text of the element named by data-copy (an input's value).
  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    var text = "value" in source && source.tagName === "INPUT" ? source.value : source.textContent;
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    navigator.clipboard.writeText(text).then(function () {
      button.textContent = button.getAttribute("data-copied") || "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    }, function () { /* refused (no permission): the text stays there to select by hand */ });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (button) copy(button);
  });
})();
