"""Which language a patient reads: chosen on the first visit from the browser's Accept-Language, switched
by a link on every patient page (on a step, a button of the step's form: `keeping.py`), and kept with
the draft (and in a cookie until a draft exists).

Template text goes through Flask-Babel's gettext catalogues (`translations/`); the rule files' text comes
from the RuleSet of that language (`screening/engine/translations.py`). Reviewers, the FHIR API and the
commands stay in English.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_request_context, redirect, request, url_for
from flask_babel import Babel, Domain, get_translations

from .. import web
from ..engine import translations

LANGUAGE_COOKIE = "language"
PATIENT_SIDE = {"patient", None}  # the patient blueprint, and pages of no blueprint (errors, 404)


def init_app(app: Flask) -> None:
    english = app.extensions["ruleset"]
    rulesets = {translations.SOURCE: english}
    for code in translations.languages(app.config["RULES_DIR"]):
        rulesets[code] = translations.load_translated(app.config["RULES_DIR"], code, english)
    app.extensions["rulesets"] = rulesets
    app.extensions["language_names"] = translations.language_names(app.config["RULES_DIR"])
    Babel(
        app,
        locale_selector=current_language,
        default_translation_directories=app.config["TRANSLATIONS_DIR"],
    )
    # One domain for the life of the process, so each catalogue is read once (Flask-Babel's default
    # domain is made anew for every request, and with it the catalogue's cache).
    domain = Domain(translation_directories=[app.config["TRANSLATIONS_DIR"]])
    app.before_request(domain.as_default)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
    )
    app.add_url_rule("/language/<code>", "switch_language", switch_language)
    app.context_processor(_language_globals)
    app.add_template_filter(local_date, "local_date")
    app.add_template_global(made_on, "made_on")


def offered() -> list[str]:
    """Return the languages the patient pages offer, English first."""
    return list(current_app.extensions["rulesets"])


def current_language() -> str:
    """Return the language of this request: English off the patient side; else the draft's choice, the
    cookie's, or the browser's preference among the languages offered."""
    draft_language = g.get("draft_language")
    language = g.get("language")
    if language is not None and g.language_for == draft_language:
        return language  # worked out once per request, again only when the draft's choice arrives
    if request.blueprint not in PATIENT_SIDE or request.path.startswith("/fhir"):
        language = translations.SOURCE
    else:
        chosen = draft_language or web.cookie(LANGUAGE_COOKIE)
        language = chosen if chosen in offered() else None
        language = language or request.accept_languages.best_match(offered(), default=translations.SOURCE)
    g.language_for, g.language = draft_language, language
    return language


def _catalogue():
    """Return the template text catalogue of this request's language, looked up once per request
    (Flask-Babel's own template functions look it up again for every message on the page)."""
    if not has_request_context():
        return get_translations()
    language = current_language()
    found = g.get("catalogue")
    if found is None or found[0] != language:
        found = g.catalogue = (language, get_translations())
    return found[1]


def patient_ruleset():
    """Return the rule set in the patient's language (the same logic, version and hash as the English)."""
    return current_app.extensions["rulesets"][current_language()]


def switch_language(code: str):
    """Switch the patient pages to another language at once, keep every answer, and go back."""
    from .. import store
    from ..db import get_db
    from .drafts import DRAFT_COOKIE

    back = _local_path(request.args.get("next", ""))
    if code not in offered():
        return redirect(back)
    draft = store.get_draft(get_db(), web.cookie(DRAFT_COOKIE))
    if draft is not None:
        progress = {**draft["progress"], "language": code}
        store.save_draft(get_db(), draft["token"], draft["answers"], progress, revision=draft["revision"])
    return remember(redirect(back), code)


def remember(response, code: str):
    """Keep the patient's language in a cookie too (for pages before a draft, and after it ends)."""
    response.set_cookie(
        web.cookie_name(LANGUAGE_COOKIE),
        code,
        max_age=365 * 86400,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["DRAFT_COOKIE_SECURE"],
    )
    return response


def _local_path(target: str) -> str:
    """Return `target` if it is a path on this site (never another host), else the start page."""
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return url_for("patient.start")
    if any(ord(ch) < 32 for ch in target):
        return url_for("patient.start")
    return target


def local_date(day) -> str:
    """Write a YYYY-MM-DD date the patient's way: as it is in English, "23 de noviembre de 2026" in
    Spanish."""
    from datetime import date

    from babel.dates import format_date

    text = str(day or "")
    language = current_language()
    if language == translations.SOURCE or not text:
        return text
    try:
        return format_date(date.fromisoformat(text), format="long", locale=language)
    except ValueError:
        return text


def made_on() -> str:
    """Return today in the clinic's time zone, written the page's way ("December 7, 2026", "7 de diciembre
    de 2026"), for the day a printed summary was made."""
    from flask_babel import format_date

    from .. import clinictime, store

    return format_date(clinictime.today(store.now(), clinictime.zone(current_app.config["TIMEZONE"])), "long")


def _language_globals() -> dict:
    if request.blueprint not in PATIENT_SIDE:
        return {"language": translations.SOURCE}
    language = current_language()
    # Back to this page, with the one query argument a step reads (?return=check) and nothing else from
    # the address: a compressed page must not echo text an attacker chose (see web.py on BREACH).
    here = request.path
    if request.method == "GET" and request.args.get("return") == "check":
        here += "?return=check"
    others = [
        {
            "code": code,
            "name": current_app.extensions["language_names"][code],
            "url": url_for("switch_language", code=code, next=here),
        }
        for code in offered()
        if code != language
    ]
    return {"language": language, "other_languages": others, "ruleset": patient_ruleset()}
