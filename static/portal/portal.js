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

// Times are shown in the browser's time zone: tell the server which one (a cookie it reads).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("portal_tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "portal_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser: the portal's default zone applies */ }
})();

// Countdowns on the live board: elements with data-deadline (ISO time) show the time left.
function portalCountdowns() {
  var now = Date.now();
  document.querySelectorAll("[data-deadline]").forEach(function (el) {
    var left = Math.round((Date.parse(el.dataset.deadline) - now) / 1000);
    if (isNaN(left)) return;
    if (left <= 0) { el.textContent = "timing out"; el.classList.add("late"); return; }
    var m = Math.floor(left / 60), s = left % 60;
    el.textContent = m + ":" + (s < 10 ? "0" : "") + s + " left";
    el.classList.toggle("soon", left < 30);
  });
}
setInterval(portalCountdowns, 1000);
document.addEventListener("DOMContentLoaded", portalCountdowns);
document.addEventListener("htmx:afterSwap", portalCountdowns);

// A "select all" box (data-select-all="leg") ticks or clears every box of that name in its table.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("input[data-select-all]")) return;
  var scope = box.closest("table") || document;
  scope.querySelectorAll('input[type=checkbox][name="' + box.dataset.selectAll + '"]').forEach(function (b) { b.checked = box.checked; });
});
