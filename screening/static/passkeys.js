// Passkeys: hand the server's options to the browser's WebAuthn API and post its answer back.
// The passkey forms stay hidden where the browser has no WebAuthn JSON API (or no JavaScript).
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
    return;
  }
  document.querySelectorAll(".no-passkeys").forEach(function (note) { note.hidden = true; });
  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    var error = form.querySelector(".passkey-error");
    form.hidden = false;
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      error.hidden = true;
      var options = JSON.parse(form.dataset.options);
      try {
        var credential = form.dataset.webauthn === "create"
          ? await navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)})
          : await navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
        form.elements.credential.value = JSON.stringify(credential.toJSON());
        form.submit();
      } catch (problem) {
        error.hidden = false;
      }
    });
  });
})();
