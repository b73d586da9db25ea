// Passkeys (WebAuthn) for Pforte's pages. No dependencies, no inline code (CSP script-src 'self').
//
// Security page: <button type="button" id="passkey-register" data-csrf="…" hidden>
//   (optional: an <input id="passkey-label"> whose value names the new passkey)
// Step-up page:  <button type="button" id="passkey-stepup" data-req="…" data-csrf="…" hidden>
// The buttons stay hidden where the browser has no WebAuthn. Messages go to an aria-live
// region next to the button (#passkey-register-status / #passkey-stepup-status, created if missing).
(function () {
  "use strict";

  var de = (document.documentElement.lang || "").toLowerCase().indexOf("de") === 0;
  var TEXT = {
    working: de ? "Bitte bestätigen Sie mit Ihrem Passkey …" : "Please confirm with your passkey …",
    added: de ? "Passkey hinzugefügt." : "Passkey added.",
    done: de ? "Bestätigt, einen Moment …" : "Confirmed, one moment …",
    cancelled: de
      ? "Der Vorgang wurde abgebrochen oder ist abgelaufen. Bitte versuchen Sie es erneut."
      : "The request was cancelled or timed out. Please try again.",
    exists: de
      ? "Dieser Passkey ist bereits für Ihr Konto eingerichtet."
      : "This passkey is already registered for your account.",
    network: de
      ? "Keine Verbindung zum Server. Bitte versuchen Sie es erneut."
      : "No connection to the server. Please try again.",
    failed: de ? "Das hat nicht geklappt." : "That did not work.",
    codes: {
      invalid_csrf_token: de
        ? "Die Seite ist abgelaufen. Bitte laden Sie sie neu."
        : "The page has expired. Please reload it.",
      login_required: de ? "Bitte melden Sie sich zuerst an." : "Please log in first.",
      fresh_login_required: de
        ? "Bitte melden Sie sich erneut an, um einen Passkey hinzuzufügen."
        : "Please log in again to add a passkey.",
      no_passkey: de
        ? "Für Ihr Konto ist noch kein Passkey eingerichtet."
        : "Your account has no passkey yet.",
      already_registered: de
        ? "Dieser Passkey ist bereits registriert."
        : "This passkey is already registered.",
      passkey_rejected: de
        ? "Der Passkey wurde nicht akzeptiert."
        : "The passkey was not accepted.",
      request_expired: de
        ? "Die Anmeldeanfrage ist abgelaufen. Bitte beginnen Sie erneut beim Dienst."
        : "The login request has expired. Please start again at the service.",
      no_ceremony: de
        ? "Die Anfrage ist abgelaufen. Bitte versuchen Sie es erneut."
        : "The request has expired. Please try again.",
      passkeys_unavailable: de
        ? "Passkeys sind auf diesem Server nicht verfügbar."
        : "Passkeys are not available on this server."
    }
  };

  function toBuffer(b64url) {
    var s = String(b64url).replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buf) {
    if (!buf) return null;
    var bytes = new Uint8Array(buf);
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function statusFor(button) {
    var id = button.id + "-status";
    var el = document.getElementById(id);
    if (!el) {
      el = document.createElement("p");
      el.id = id;
      el.className = "passkey-status";
      button.insertAdjacentElement("afterend", el);
    }
    el.setAttribute("role", "status");
    el.setAttribute("aria-live", "polite");
    return el;
  }

  function ApiError(code, message) {
    this.code = code;
    this.message = message;
  }

  function post(url, csrf, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrf || ""
      },
      body: JSON.stringify(payload || {})
    }).then(
      function (r) {
        return r.json().then(
          function (data) {
            if (!r.ok) throw new ApiError(data && data.error, data && data.error_description);
            return data;
          },
          function () {
            throw new ApiError(null, "HTTP " + r.status);
          }
        );
      },
      function () {
        throw new ApiError("network", TEXT.network);
      }
    );
  }

  function message(e) {
    if (e instanceof ApiError) {
      if (e.code === "network") return TEXT.network;
      return (e.code && TEXT.codes[e.code]) || TEXT.failed + (e.message ? " (" + e.message + ")" : "");
    }
    // DOMException from navigator.credentials: cancelled, timed out, or excluded authenticator.
    if (e && e.name === "InvalidStateError") return TEXT.exists;
    if (e && (e.name === "NotAllowedError" || e.name === "AbortError")) return TEXT.cancelled;
    return TEXT.failed + (e && e.message ? " (" + e.message + ")" : "");
  }

  // The server's CreationChallengeResponse → options for navigator.credentials.create.
  function creationOptions(ccr) {
    var pk = ccr.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) {
      c.id = toBuffer(c.id);
    });
    return { publicKey: pk };
  }

  // The server's RequestChallengeResponse → options for navigator.credentials.get.
  function requestOptions(rcr) {
    var pk = rcr.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) {
      c.id = toBuffer(c.id);
    });
    var opts = { publicKey: pk };
    if (rcr.mediation) opts.mediation = rcr.mediation;
    return opts;
  }

  function extensionResults(cred, keys) {
    var all = (cred.getClientExtensionResults && cred.getClientExtensionResults()) || {};
    var out = {};
    keys.forEach(function (k) {
      if (all[k] !== undefined) out[k] = all[k];
    });
    return out;
  }

  function registrationJson(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toB64url(r.attestationObject),
        clientDataJSON: toB64url(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined
      },
      extensions: extensionResults(cred, ["credProps"])
    };
  }

  function assertionJson(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: toB64url(r.userHandle)
      },
      extensions: extensionResults(cred, ["appid"])
    };
  }

  function run(button, work) {
    var status = statusFor(button);
    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = TEXT.working;
      work(status).then(null, function (e) {
        status.textContent = message(e);
        button.disabled = false;
      });
    });
  }

  function register(button) {
    var csrf = button.getAttribute("data-csrf");
    run(button, function (status) {
      return post("/account/security/passkey/start", csrf, {})
        .then(function (ccr) {
          return navigator.credentials.create(creationOptions(ccr));
        })
        .then(function (cred) {
          var label = document.getElementById("passkey-label");
          return post("/account/security/passkey/finish", csrf, {
            credential: registrationJson(cred),
            label: label && label.value ? label.value : null
          });
        })
        .then(function () {
          status.textContent = TEXT.added;
          window.location.reload();
        });
    });
  }

  function stepUp(button) {
    var csrf = button.getAttribute("data-csrf");
    var req = button.getAttribute("data-req");
    run(button, function (status) {
      return post("/stepup/passkey/start", csrf, { req: req })
        .then(function (rcr) {
          return navigator.credentials.get(requestOptions(rcr));
        })
        .then(function (cred) {
          return post("/stepup/passkey/finish", csrf, { req: req, credential: assertionJson(cred) });
        })
        .then(function (data) {
          status.textContent = TEXT.done;
          // Only ever a path on this server.
          var to = data && typeof data.redirect === "string" ? data.redirect : "";
          if (to.charAt(0) === "/" && to.charAt(1) !== "/") window.location.assign(to);
        });
    });
  }

  function init() {
    if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) return;
    var reg = document.getElementById("passkey-register");
    if (reg) {
      reg.hidden = false;
      register(reg);
    }
    var up = document.getElementById("passkey-stepup");
    if (up) {
      up.hidden = false;
      stepUp(up);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
