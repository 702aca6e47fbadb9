"""Passkeys as a second step, through Duo's py_webauthn (the `webauthn` package): the options the
browser's WebAuthn API takes, and the checks of what it answers (challenge, origin, relying party,
signature, signature counter).

The relying party is the host the reviewers' pages are served from: SCREENING_BASE_URL's in
production, the request's own host in development (http://localhost counts as a secure context;
an IP address cannot be a relying party, so use localhost, not 127.0.0.1, to try passkeys).
The challenge of a ceremony waits in the signed session cookie and is used once.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import current_app, request, session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .. import get_db, store

MAX_CREDENTIAL_JSON = 16 * 1024
RP_NAME = "Clinic reviewers"


class PasskeyError(Exception):
    """What the browser sent is not a valid answer to the ceremony this session started."""


def origin() -> str:
    """Return the origin the browser must report: scheme, host and port of the reviewers' pages."""
    base = current_app.config.get("BASE_URL") or ""
    if current_app.config["SCREENING_ENV"] == "production" and base:
        parts = urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}"
    return request.host_url.rstrip("/")


def rp_id() -> str:
    return urlsplit(origin()).hostname or "localhost"


def registration_options(row: dict) -> str:
    """Start adding a passkey to `row`'s account; return the options as JSON for the page."""
    existing = [
        PublicKeyCredentialDescriptor(id=base64url_to_bytes(p["credential_id"]))
        for p in store.list_passkeys(get_db(), row["id"])
    ]
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=RP_NAME,
        user_id=f"reviewer-{row['id']}".encode(),
        user_name=row["email"],
        exclude_credentials=existing,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    session["webauthn_challenge"] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


def add_from(row: dict, credential_json: str, name: str) -> None:
    """Check the browser's answer to `registration_options` and keep the new passkey."""
    try:
        verified = verify_registration_response(
            credential=_parsed(credential_json),
            expected_challenge=_take_challenge(),
            expected_origin=origin(),
            expected_rp_id=rp_id(),
        )
    except InvalidRegistrationResponse as exc:
        raise PasskeyError(str(exc)) from None
    db = get_db()
    store.add_passkey(
        db,
        row["id"],
        bytes_to_base64url(verified.credential_id),
        bytes_to_base64url(verified.credential_public_key),
        verified.sign_count,
        name,
    )
    store.record_audit(
        db, "two_step_setup", reviewer_id=row["id"], reviewer_email=row["email"], detail="passkey"
    )


def authentication_options(row: dict) -> str:
    """Start a sign-in with one of `row`'s passkeys; return the options as JSON for the page."""
    passkeys = store.list_passkeys(get_db(), row["id"])
    options = generate_authentication_options(
        rp_id=rp_id(),
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p["credential_id"])) for p in passkeys
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    session["webauthn_challenge"] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


def check_assertion(row: dict, credential_json: str) -> None:
    """Check the browser's answer to `authentication_options`: a passkey of this account signed this
    session's challenge, and its counter moved on. Raise PasskeyError otherwise."""
    credential = _parsed(credential_json)
    db = get_db()
    passkey = store.passkey_by_credential(db, str(credential.get("id", "")))
    if passkey is None or passkey["reviewer_id"] != row["id"]:
        raise PasskeyError("not a passkey of this account")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=_take_challenge(),
            expected_origin=origin(),
            expected_rp_id=rp_id(),
            credential_public_key=base64url_to_bytes(passkey["public_key"]),
            credential_current_sign_count=passkey["sign_count"],
        )
    except InvalidAuthenticationResponse as exc:
        raise PasskeyError(str(exc)) from None
    if not store.use_passkey(db, passkey["id"], passkey["sign_count"], verified.new_sign_count):
        raise PasskeyError("the passkey was used by another sign-in at the same moment")


def _parsed(credential_json: str) -> dict:
    if not credential_json or len(credential_json) > MAX_CREDENTIAL_JSON:
        raise PasskeyError("no answer from the browser")
    try:
        credential = json.loads(credential_json)
    except ValueError:
        raise PasskeyError("the browser's answer is not JSON") from None
    if not isinstance(credential, dict):
        raise PasskeyError("the browser's answer is not a credential")
    return credential


def _take_challenge() -> bytes:
    """Return this session's challenge and forget it: each is good for one answer."""
    challenge = session.pop("webauthn_challenge", None)
    if not isinstance(challenge, str):
        raise PasskeyError("no ceremony was started in this session")
    return base64url_to_bytes(challenge)
