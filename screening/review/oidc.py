"""Single sign-on with the hospital's identity provider: OpenID Connect's code flow with PKCE, via Authlib.

Authlib keeps the state, the nonce and the PKCE verifier in the Flask session between the redirect to the
provider and the callback, checks the state against it, sends the verifier with the code, and checks the
ID token's signature, issuer, audience, expiry and nonce. This module decides who that person is here:
the active reviewer whose email the provider says it has verified.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError

from .. import get_db, store, web
from . import PUBLIC_ENDPOINTS, auth, bp
from .sessions import start_session

CLIENT = "hospital"
SCOPES = "openid email"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Why a single sign-on was refused: the page's heading and what to do, and the audit log's reason.
REFUSALS = {
    "provider": ("The sign-in did not finish", "provider said no or could not be checked"),
    "unreachable": ("The sign-in service cannot be reached", "identity provider unreachable"),
    "unverified": ("Your email address is not verified", "email not verified by the provider"),
    "unknown": ("There is no reviewer account for you", "no reviewer with this email"),
    "disabled": ("Your reviewer account is disabled", "account disabled"),
}


def parse_issuer(raw: str, env: str = "production") -> str:
    """Return the issuer URL; raise ValueError unless it is https:// (or http:// on this machine)."""
    issuer = raw.strip().rstrip("/")
    if not issuer:
        return ""
    parts = urlsplit(issuer)
    local = parts.scheme == "http" and (parts.hostname or "") in LOCAL_HOSTS
    if not parts.hostname or (parts.scheme != "https" and not local) or parts.query or parts.fragment:
        raise ValueError(
            "expected an https:// address like https://login.example.org/realms/clinic, found "
            f"{issuer!r} (http:// is accepted only on 127.0.0.1 or localhost, for tests)"
        )
    return issuer


def check_settings(config: dict) -> None:
    """Refuse an issuer without its client id and secret (or a bad issuer given by test settings)."""
    issuer = config.get("OIDC_ISSUER", "")
    if not issuer:
        return
    try:
        parse_issuer(issuer)
    except ValueError as exc:
        raise ValueError(f"SCREENING_OIDC_ISSUER: {exc}.") from None
    for key in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):
        if not config.get(key):
            raise ValueError(
                f"SCREENING_{key}: not set. Single sign-on (SCREENING_OIDC_ISSUER) needs the client id "
                "and secret the identity provider gave when this app was registered."
            )


def init_app(app: Flask) -> None:
    """Register the provider as an Authlib client when SCREENING_OIDC_ISSUER is set."""
    issuer = app.config.get("OIDC_ISSUER", "")
    if not issuer:
        return
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions["oidc_client"] = oauth.create_client(CLIENT)


def enabled() -> bool:
    """Tell whether single sign-on is set up."""
    return "oidc_client" in current_app.extensions


def callback_url() -> str:
    """Return the redirect URI to register at the provider: <SCREENING_BASE_URL>/review/oidc/callback."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("review.oidc_callback")


def _client():
    return current_app.extensions["oidc_client"]


@bp.post("/oidc/start")
def oidc_start():
    """Send the browser to the provider, with a fresh state, nonce and PKCE challenge."""
    if not enabled():
        return render_template("errors/error.html", code=404), 404
    next_page = auth.safe_next(request.args.get("next"))
    session.clear()
    session["oidc_next"] = next_page
    try:
        return _client().authorize_redirect(callback_url(), nonce=secrets.token_urlsafe(24))
    except requests.RequestException:
        return _refuse("unreachable", status=503)


@bp.get("/oidc/callback")
def oidc_callback():
    """Sign in the active reviewer whose verified email the provider vouches for; refuse anyone else."""
    if not enabled():
        return render_template("errors/error.html", code=404), 404
    try:
        token = _client().authorize_access_token()
        claims = _claims(token)
    except requests.RequestException:
        return _refuse("unreachable", status=503)
    except (AuthlibBaseError, JoseError) as exc:
        return _refuse("provider", detail=type(exc).__name__)
    email = claims.get("email") or ""
    if claims.get("email_verified") is not True or not email:
        return _refuse("unverified", email=email)
    row = store.find_reviewer(get_db(), email)
    if row is None and current_app.config.get("OIDC_CREATE_REVIEWERS"):
        row = _create_reviewer(email)
    if row is None:
        return _refuse("unknown", email=email)
    if not row["active"]:
        return _refuse("disabled", email=email, row=row)
    next_page = session.get("oidc_next") or url_for("review.inbox")
    start_session(row, "single sign-on")
    return redirect(auth.safe_next(next_page), code=303)


def _claims(token: dict) -> dict:
    """Return the ID token's claims, with the email from the userinfo endpoint when the token lacks it."""
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise _NoIdToken("the provider sent no ID token")
    if "email" not in claims:
        extra = _client().userinfo(token=token)
        if extra.get("sub") != claims["sub"]:
            raise _NoIdToken("the userinfo answer is about someone else")
        claims.update({key: extra[key] for key in ("email", "email_verified") if key in extra})
    return claims


class _NoIdToken(AuthlibBaseError):
    """The provider's answer did not say who signed in."""


def _create_reviewer(email: str) -> dict | None:
    """Make a non-admin reviewer for a verified email (SCREENING_OIDC_CREATE_REVIEWERS=1)."""
    db = get_db()
    try:
        email = auth.normalise_email(email)
        unusable = auth.hasher().hash(secrets.token_urlsafe(32))
        store.add_reviewer(db, email, unusable, is_admin=False, password_signin=False)
    except (auth.AccountError, store.DuplicateReviewer):
        return None
    row = store.find_reviewer(db, email)
    store.record_audit(
        db,
        "reviewer_add",
        reviewer_id=row["id"],
        reviewer_email=row["email"],
        detail=f"reviewer {row['email']}, not an admin, made at their first single sign-on",
    )
    return row


def _refuse(reason: str, *, status: int = 403, email: str = "", row: dict | None = None, detail: str = ""):
    """Show why the sign-in was refused, with no session, and write it to the audit log.

    Only this flow's leftovers go: a forged callback sent to someone already signed in must not sign
    them out (Authlib has already dropped the state it checked)."""
    session.pop("oidc_next", None)
    heading, logged = REFUSALS[reason]
    who = {"reviewer_id": row["id"], "reviewer_email": row["email"]} if row else {}
    typed = f"; email {email}" if email and not row else ""
    extra = f" ({detail})" if detail else ""
    store.record_audit(get_db(), "signin_failed", detail=f"single sign-on: {logged}{extra}{typed}", **who)
    page = render_template(
        "review/oidc_refused.html", reason=reason, heading=heading, email=email, name=provider_name()
    )
    return page, status


def sign_in_page_csp() -> str:
    """Return the sign-in page's CSP: the "Sign in with" form's redirect may go to the provider (browsers
    apply form-action to where a form's answer redirects, not only to where it posts)."""
    parts = urlsplit(current_app.config["OIDC_ISSUER"])
    return web.CSP.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")


def provider_name() -> str:
    """Return the provider's name for "Sign in with NAME" (SCREENING_OIDC_NAME)."""
    return current_app.config.get("OIDC_NAME") or "your hospital account"


def end_session_link() -> str | None:
    """Return the provider's end-session address for this app, when the provider offers one."""
    if not enabled():
        return None
    try:
        endpoint = _client().load_server_metadata().get("end_session_endpoint")
    except (requests.RequestException, ValueError):
        return None
    if not endpoint:
        return None
    back = current_app.config["BASE_URL"].rstrip("/") + url_for("review.sign_in")
    return _client().create_logout_url(
        post_logout_redirect_uri=back, client_id=current_app.config["OIDC_CLIENT_ID"]
    )["url"]


@bp.get("/oidc/signed-out")
def oidc_signed_out():
    """After signing out here, offer to sign out at the provider too."""
    return render_template("review/oidc_signed_out.html", link=end_session_link(), name=provider_name())


PUBLIC_ENDPOINTS.update({"review.oidc_start", "review.oidc_callback", "review.oidc_signed_out"})
