/* Khôi Ngô privacy portal: the little the pages ask of script. Every page works without it. */
(function () {
  "use strict";

  /* A form came back with errors: move focus to the summary at the top, so a screen reader reads it
     and the keyboard starts there; its links take focus to the field they name. */
  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      return;
    }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!field) {
        return;
      }
      event.preventDefault();
      field.focus();
      (field.labels && field.labels.length ? field.labels[0] : field).scrollIntoView();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrorSummary);
  } else {
    focusErrorSummary();
  }
}());
