// Forms marked data-once cannot be submitted twice: the submit buttons disable themselves.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches("form[data-once]")) return;
  if (form.dataset.submitted === "1") { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  // A disabled button is left out of the submitted data: keep the pressed one's name=value.
  var submitter = event.submitter;
  if (submitter && submitter.name) {
    var keep = document.createElement("input");
    keep.type = "hidden"; keep.name = submitter.name; keep.value = submitter.value;
    form.appendChild(keep);
  }
  form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
});

// Coming back with the browser's Back button can restore the page as it was left, buttons
// disabled; make such a form usable again.
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    delete form.dataset.submitted;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
  });
});
