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
