// The policy form's small conveniences. No schedule maths here: the server (the contract core)
// computes every start time, offset and run; this file only moves form controls around.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function preselectBrowserZone(form) {
    // Only on a fresh form: a re-rendered one keeps what the person chose.
    if (!form.hasAttribute("data-preselect-zone")) return;
    var select = form.querySelector("input[name=time_zone]");
    if (!select || select.value) return;
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    if (!zone) return;
    var list = select.list;
    var option = list && Array.prototype.find.call(list.options, function (o) { return o.value === zone; });
    if (!option) return;
    select.value = zone;
    // The person has changed nothing yet: "pristine" asks the server to show what is missing as
    // still to do, not as mistakes. Their first own change removes it (see forgetPristine).
    var pristine = document.createElement("input");
    pristine.type = "hidden";
    pristine.name = "pristine";
    pristine.value = "1";
    pristine.setAttribute("data-pristine", "");
    form.appendChild(pristine);
    // Let htmx ask the server for the preview and the hour grid of this zone.
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function forgetPristine(event) {
    // Only a person's own input counts (a script's events are not trusted). Capturing at the
    // document runs this before htmx, listening on the form, builds its request.
    if (!event.isTrusted) return;
    var form = event.target.closest && event.target.closest("form");
    var flag = form && form.querySelector("[data-pristine]");
    if (flag) flag.remove();
  }
  document.addEventListener("change", forgetPristine, true);
  document.addEventListener("input", forgetPristine, true);

  function updateAddTag(form) {
    // The contract allows MAX_TAGS tags; the server renders that number on the rows' container.
    var container = form.querySelector("[data-tag-rows]");
    var add = form.querySelector("[data-add-tag]");
    var note = form.querySelector("[data-tags-full]");
    if (!container || !add) return;
    var max = parseInt(container.getAttribute("data-max-tags"), 10);
    var full = container.querySelectorAll("[data-tag-row]").length >= max;
    add.disabled = full;
    if (note) note.hidden = !full;
  }

  function renumberTagRows(container) {
    container.querySelectorAll("[data-tag-row]").forEach(function (row, index) {
      var n = String(index + 1);
      row.querySelectorAll("input").forEach(function (input) {
        var kind = input.name === "tag_key" ? "key" : "value";
        var id = "tag-" + kind + "-" + n;
        var label = row.querySelector('label[for="' + input.id + '"]');
        input.id = id;
        if (label) {
          label.htmlFor = id;
          var hidden = label.querySelector(".visually-hidden");
          if (hidden) hidden.textContent = "Tag " + n + " ";
        }
      });
      var hiddenRemove = row.querySelector("[data-remove-tag] .visually-hidden");
      if (hiddenRemove) hiddenRemove.textContent = " tag " + n;
    });
  }

  function addTagRow(form) {
    var container = form.querySelector("[data-tag-rows]");
    var template = form.querySelector("#tag-row-template");
    if (!container || !template) return;
    var row = template.content.firstElementChild.cloneNode(true);
    container.appendChild(row);
    renumberTagRows(container);
    updateAddTag(form);
    var first = row.querySelector("input");
    if (first) first.focus();
  }

  function removeTagRow(form, button) {
    var row = button.closest("[data-tag-row]");
    var container = form.querySelector("[data-tag-rows]");
    if (!row || !container) return;
    row.remove();
    renumberTagRows(container);
    updateAddTag(form);
    var add = form.querySelector("[data-add-tag]");
    if (add) add.focus();
    // The tags changed: refresh the preview as any other change does.
    form.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function zoneSuggestion(input) {
    // The option Enter picks: the one typed exactly, else the zone whose city is the text typed
    // ("Berlin"), else the first whose name or label holds it, as the browser's list shows them.
    var text = input.value.trim().toLowerCase();
    var options = input.list ? Array.prototype.slice.call(input.list.options) : [];
    if (!text || !options.length) return null;
    function city(option) { return option.value.split("/").pop().replace(/_/g, " ").toLowerCase(); }
    var tests = [
      function (o) { return o.value.toLowerCase() === text; },
      function (o) { return city(o) === text; },
      function (o) { return o.value.toLowerCase().indexOf(text) === 0 || city(o).indexOf(text) === 0; },
      function (o) { return (o.value + " " + (o.label || "")).toLowerCase().indexOf(text) !== -1; },
    ];
    for (var i = 0; i < tests.length; i++) {
      var found = options.find(tests[i]);
      if (found) return found.value;
    }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    // Enter in the zone combobox picks its suggestion, as in any combobox; it never submits the
    // form (a half-filled form would come back as a page of refusals).
    var input = event.target;
    if (event.key !== "Enter" || event.isComposing || !input.matches || !input.matches("input[list][name=time_zone]")) return;
    event.preventDefault();
    var picked = zoneSuggestion(input);
    if (picked) input.value = picked;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target) return;
    var form = target.closest("form");
    if (target.hasAttribute("data-add-tag") && form) {
      addTagRow(form);
    } else if (target.hasAttribute("data-remove-tag") && form) {
      removeTagRow(form, target);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("policy-form");
    // After htmx has set up the form (it also starts on DOMContentLoaded).
    if (form) setTimeout(function () { preselectBrowserZone(form); }, 0);
  });
})();
