// Sends the browser on to the payment provider without a click (the button stays as a fallback).
document.addEventListener("DOMContentLoaded", function () {
  var link = document.getElementById("go-link");
  var form = document.getElementById("go-form");
  setTimeout(function () {
    if (form) { form.submit(); } else if (link) { window.location.assign(link.href); }
  }, 300);
});
