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

  // htmx leaves the page as it was when a request is refused (a policy deleted in another tab
  // answers 404) or gets no answer: say so where the page's messages go, instead of failing unseen.
  function say(text) {
    var box = document.getElementById("messages");
    if (!box) return;
    var item = document.createElement("li");
    item.className = "message error";
    item.textContent = text;
    var list = document.createElement("ul");
    list.className = "messages";
    list.appendChild(item);
    box.replaceChildren(list);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    say(status === 404
      ? "What this page shows no longer exists: it may have been deleted meanwhile. Reload the page."
      : "The server refused this request (" + status + "). Reload the page and try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    say("The server could not be reached. Check the connection and try again.");
  });
})();
