"""UBKI's JSON protocol: the request documents and reading the answers (no I/O here).

Shapes follow UBKI's specification (wiki-ubki, space "Specification"): the session
request ``{"doc": {"auth": {"login", "pass"}}}``, the report request
``{"doc": {"ubki": {"sessid", "req_envelope": {"req_xml": {"request": {...}}}}}}`` and the
answer rooted at ``ubkidata``: ``tech`` (error, reqinfo, billing) and ``comp`` blocks
(an object or a list of them), recognised here by what they contain (``scoremfo``,
``attributes``, ``scorefico``, ``cki``, ``crdeal``) rather than by their ids.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from core.contracts.scoring import Applicant

KYIV = ZoneInfo("Europe/Kyiv")

#: Report types (UBKI ref. 49) this plugin reads.
CREDIT_REPORT = "10"
FICO_SCORE = "46"
REPORT_TYPES = {CREDIT_REPORT: "credit report with the MFI score", FICO_SCORE: "FICO score"}

#: Document types (ref. 7) and contact types (ref. 10).
DOC_PASSPORT = "1"
DOC_ID_CARD = "17"
CONTACT_MOBILE = "3"

_BOOKLET = re.compile(r"^\s*([A-Za-zА-ЯІЇЄҐа-яіїєґ]{2})\s*№?\s*(\d{6})\s*$")
_ID_CARD = re.compile(r"^\s*(\d{9})\s*$")
_ITN = re.compile(r"^\d{10}$")


def auth_document(login: str, password: str) -> dict[str, Any]:
    return {"doc": {"auth": {"login": login, "pass": password}}}


def check_applicant(applicant: Applicant) -> str:
    """What UBKI cannot search with, or "" when the applicant will do."""
    if not _ITN.match(applicant.taxpayer_number.strip()):
        return "UBKI needs the applicant's 10-digit taxpayer number (РНОКПП)"
    return ""


def identity_blocks(applicant: Applicant) -> dict[str, Any]:
    """The ``i`` part of a request: who is asked about."""
    ident: dict[str, Any] = {"okpo": applicant.taxpayer_number.strip(), "lname": applicant.last_name.strip(),
                             "fname": applicant.first_name.strip(), "mname": applicant.middle_name.strip()}
    if applicant.birth_date:
        ident["bdate"] = applicant.birth_date.isoformat()
    blocks: dict[str, Any] = {"ident": {k: v for k, v in ident.items() if v}}
    if booklet := _BOOKLET.match(applicant.passport):
        blocks["docs"] = {"doc": {"dtype": DOC_PASSPORT, "dser": booklet.group(1).upper(), "dnom": booklet.group(2)}}
    elif card := _ID_CARD.match(applicant.passport):
        blocks["docs"] = {"doc": {"dtype": DOC_ID_CARD, "dser": "", "dnom": card.group(1)}}
    if applicant.phone.strip():
        blocks["contacts"] = {"cont": {"ctype": CONTACT_MOBILE, "cval": applicant.phone.strip()}}
    return blocks


def report_document(session_key: str, applicant: Applicant, *, report_type: str, reason: str,
                    language: str) -> dict[str, Any]:
    request = {"version": "1.0", "reqtype": report_type, "reqreason": reason,
               "i": {"reqlng": language, **identity_blocks(applicant)}}
    return {"doc": {"ubki": {"sessid": session_key, "req_envelope": {"req_xml": {"request": request}}}}}


# -- reading answers ------------------------------------------------------------------------------


def auth_block(answer: dict[str, Any]) -> dict[str, Any]:
    doc = answer.get("doc", answer)
    block = doc.get("auth") if isinstance(doc, dict) else None
    return block if isinstance(block, dict) else {}


def session_expiry(dateed: str, now: dt.datetime) -> dt.datetime:
    """When a session key stops working: ``dateed`` if readable, else the end of the day in Kyiv."""
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M:%S"):
        try:
            return dt.datetime.strptime(dateed.strip(), pattern).replace(tzinfo=KYIV)
        except (ValueError, AttributeError):
            continue
    local = now.astimezone(KYIV)
    return dt.datetime.combine(local.date(), dt.time(23, 59, 59), tzinfo=KYIV)


def ubkidata(answer: dict[str, Any]) -> dict[str, Any] | None:
    root = answer.get("ubkidata")
    if root is None and isinstance(answer.get("doc"), dict):
        root = answer["doc"].get("ubkidata")
    return root if isinstance(root, dict) else None


def error_of(data: dict[str, Any]) -> tuple[str, str]:
    """``(errtype, errtext)`` of an answer; ``("", "")`` when it reports no error."""
    tech = data.get("tech") if isinstance(data.get("tech"), dict) else {}
    error = tech.get("error") if isinstance(tech.get("error"), dict) else {}
    errtype, errtext = str(error.get("errtype") or "").strip(), str(error.get("errtext") or "").strip()
    if errtype in ("", "0") and not errtext:
        return "", ""
    return errtype or "?", errtext


def is_session_error(errtext: str) -> bool:
    """"Security error. The lifetime of the session key expired." and its kin: log in again."""
    text = errtext.lower()
    return "session" in text and any(word in text for word in ("expired", "lifetime", "not found", "invalid"))


def request_id_of(data: dict[str, Any]) -> str:
    tech = data.get("tech") if isinstance(data.get("tech"), dict) else {}
    info = tech.get("reqinfo") if isinstance(tech.get("reqinfo"), dict) else {}
    return str(info.get("reqid") or "")


def blocks(data: dict[str, Any]) -> dict[str, Any]:
    """Every content block of the ``comp`` parts, by its name (``scoremfo``, ``scorefico``...)."""
    comps = data.get("comp")
    if isinstance(comps, dict):
        comps = [comps]
    found: dict[str, Any] = {}
    for comp in comps if isinstance(comps, list) else []:
        if not isinstance(comp, dict):
            continue
        for name, value in comp.items():
            if name not in ("id", "descr"):
                found.setdefault(name, value)
    return found


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def integer(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def amount(value: Any) -> Decimal | None:
    try:
        parsed = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, TypeError):
        return None
    return parsed if parsed.is_finite() else None


def mfo_factors(attributes: dict[str, Any]) -> dict[str, Any]:
    """UBKI's MFI attributes (component 23) as policy factors."""
    names = {
        "openmfo": "mfo.open_deals", "closemfo": "mfo.closed_deals", "soldmfo": "mfo.sold_deals",
        "closenoexp": "mfo.last_closed_on_time", "maxnowdaymfo": "mfo.max_delay_days",
        "cntreqsweek": "requests.last_week",
    }
    factors: dict[str, Any] = {}
    for key, name in names.items():
        if (value := integer(attributes.get(key))) is not None:
            factors[name] = value
    for key, name in (("sumnowexpmfo", "mfo.overdue_amount"), ("dlamtcurmfo", "mfo.debt_amount")):
        if (value := amount(attributes.get(key))) is not None:
            factors[name] = value
    return factors
