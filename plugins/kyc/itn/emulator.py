"""An emulator of the tax service's "Узнать ИНН" form: the same two-step AJAX protocol, a few taxpayers.

* ``GET /inn.do``: the form's page; sets the ``JSESSIONID`` cookie the AJAX calls need.
* ``POST /inn-new-proc.do`` (``c=find``): checks the fields as the service does (errors
  ``{"ERRORS": {"field": ["..."]}, "STATUS": 400}``) and answers ``{"requestId": ...,
  "captchaRequired": false}``; ``{"captchaRequired": true}`` in captcha mode; HTTP 429
  with ``Retry-After`` past ``throttle_per_minute`` finds from one session.
* ``POST /inn-new-proc.json`` (``c=get``): ``{"state": -1}`` for the first
  ``processing_polls`` asks, then ``{"state": 1, "inn": ...}`` for a known taxpayer or
  ``{"state": 0, "error_code": 1}`` for an unknown one; ``{"ERROR": "Недопустимый
  идентификатор запроса"}`` for an id it does not know (or has forgotten, see ``forget``).

Taxpayers are matched on name, date of birth and passport (``ё`` is ``е``, case aside).
Control: ``GET /_emulator``, ``POST /_emulator/modes`` ``{"captcha": true,
"throttle_per_minute": 2, "processing_polls": 1, "down": true}``, ``POST /_emulator/persons``,
``POST /_emulator/forget`` (every request id expires).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get, post

from plugins.kyc.demo import ANNA, BORIS, BORIS_REAL_ITN, personal_inn

COOKIE = "JSESSIONID"
EXPIRED = "Недопустимый идентификатор запроса"
REQUIRED = "Поле обязательно для заполнения"
DOC_TYPES = {"01", "03", "10", "12", "15", "19", "21"}
_DOCNO_21 = re.compile(r"^\d{2} \d{2} \d{6}$")


@dataclass(frozen=True)
class Taxpayer:
    last_name: str
    first_name: str
    middle_name: str
    birth_date: str       # DD.MM.YYYY
    passport: str         # "SS SS NNNNNN"
    issued_on: str        # DD.MM.YYYY
    inn: str

    def key(self) -> tuple[str, ...]:
        return (_norm(self.last_name), _norm(self.first_name), _norm(self.middle_name), self.birth_date,
                self.passport.replace(" ", ""))

    @classmethod
    def of(cls, fields: dict[str, str], inn: str) -> Taxpayer:
        """From the kyc form's fields (ISO dates)."""
        def ru(iso: str) -> str:
            return dt.date.fromisoformat(iso).strftime("%d.%m.%Y")

        return cls(fields["last_name"], fields["first_name"], fields.get("middle_name", ""),
                   ru(fields["birth_date"]), fields["passport_number"], ru(fields["passport_issued_on"]), inn)


IVAN = Taxpayer("Иванов", "Иван", "Иванович", "14.03.1996", "45 21 123456", "20.04.2021", personal_inn("5001007322"))
#: The taxpayers the emulated service knows: the demo's customers (Boris under his real ITN) and Ivan.
TEST_TAXPAYERS: tuple[Taxpayer, ...] = (
    Taxpayer.of(ANNA, ANNA["itn"]),
    Taxpayer.of(BORIS, BORIS_REAL_ITN),
    IVAN,
)


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def _date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%d.%m.%Y").date()
    except ValueError:
        return None


@dataclass
class FnsEmulator:
    taxpayers: list[Taxpayer] = field(default_factory=lambda: list(TEST_TAXPAYERS))
    captcha: bool = False
    throttle_per_minute: int | None = None
    processing_polls: int = 1
    down: bool = False
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    finds: dict[str, list[float]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def reset(self) -> None:
        """Back to the start: the test data, no modes, nothing asked (the app keeps serving this object)."""
        self.__dict__.update(type(self)().__dict__)

    def find_errors(self, form: dict[str, str]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for name in ("fam", "nam", "bdate", "doctype", "docno", "docdt"):
            if not form.get(name, "").strip():
                errors[name] = [REQUIRED]
        if not form.get("otch", "").strip() and form.get("opt_otch") != "1":
            errors["otch"] = [REQUIRED]
        born, issued = _date(form.get("bdate", "")), _date(form.get("docdt", ""))
        if form.get("bdate") and born is None:
            errors["bdate"] = ["Дата указана неверно"]
        if form.get("docdt") and issued is None:
            errors["docdt"] = ["Дата указана неверно"]
        if born and issued and issued < born:
            errors["docdt"] = ["Дата выдачи документа не может быть ранее даты рождения"]
        if form.get("doctype") and form["doctype"] not in DOC_TYPES:
            errors["doctype"] = ["Неверный вид документа"]
        if form.get("doctype") == "21" and form.get("docno") and not _DOCNO_21.match(form["docno"]):
            errors["docno"] = ["Серия и номер паспорта указаны неверно"]
        return errors

    def throttled(self, session: str) -> bool:
        if self.throttle_per_minute is None:
            return False
        now = time.monotonic()
        recent = [t for t in self.finds.get(session, []) if now - t < 60]
        self.finds[session] = recent
        if len(recent) >= self.throttle_per_minute:
            return True
        recent.append(now)
        return False

    def match(self, form: dict[str, str]) -> Taxpayer | None:
        key = (_norm(form.get("fam", "")), _norm(form.get("nam", "")), _norm(form.get("otch", "")),
               form.get("bdate", ""), form.get("docno", "").replace(" ", ""))
        return next((t for t in self.taxpayers if t.key() == key and t.issued_on == form.get("docdt")), None)

    def app(self) -> Litestar:
        emulator = self

        def session_of(request: Request[Any, Any, Any]) -> str | None:
            value = request.cookies.get(COOKIE)
            return value if value in emulator.sessions else None

        def refusal(request: Request[Any, Any, Any]) -> Response[Any] | None:
            if emulator.down:
                return Response("<html><body>503 Service Temporarily Unavailable</body></html>", status_code=503,
                                media_type=MediaType.HTML)
            if request.headers.get("x-requested-with") != "XMLHttpRequest" or session_of(request) is None:
                return Response({"ERROR": "Доступ запрещен. Обновите страницу", "STATUS": 403}, status_code=403)
            return None

        @get("/inn.do", media_type=MediaType.HTML)
        async def page() -> Response[str]:
            emulator.calls.append("page")
            if emulator.down:
                return Response("503 Service Temporarily Unavailable", status_code=503, media_type=MediaType.TEXT)
            session = secrets.token_hex(16).upper()
            emulator.sessions.add(session)
            response = Response("<html><body><h1>Узнать ИНН</h1></body></html>", media_type=MediaType.HTML)
            response.set_cookie(COOKIE, session, path="/", httponly=True)
            return response

        @post("/inn-new-proc.do", status_code=200)
        async def find(request: Request[Any, Any, Any]) -> Response[Any]:
            emulator.calls.append("find")
            refused = refusal(request)
            if refused is not None:
                return refused
            form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
            if emulator.throttled(session_of(request) or ""):
                return Response("<html><body>429 Too Many Requests</body></html>", status_code=429,
                                media_type=MediaType.HTML, headers={"Retry-After": "60"})
            if emulator.captcha:
                return Response({"captchaRequired": True})
            if form.get("c") != "find":
                return Response({"ERROR": "Неизвестная команда", "STATUS": 400}, status_code=400)
            errors = emulator.find_errors(form)
            if errors:
                return Response({"ERRORS": errors, "STATUS": 400}, status_code=400)
            request_id = secrets.token_hex(48).upper()
            found = emulator.match(form)
            emulator.requests[request_id] = {"inn": found.inn if found else None, "polls": emulator.processing_polls}
            return Response({"requestId": request_id, "captchaRequired": False})

        @post("/inn-new-proc.json", status_code=200)
        async def answer(request: Request[Any, Any, Any]) -> Response[Any]:
            emulator.calls.append("get")
            refused = refusal(request)
            if refused is not None:
                return refused
            form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
            pending = emulator.requests.get(form.get("requestId", ""))
            if form.get("c") != "get" or pending is None:
                return Response({"ERROR": EXPIRED, "STATUS": 400}, status_code=400)
            if pending["polls"] > 0:
                pending["polls"] -= 1
                return Response({"state": -1})
            if pending["inn"] is None:
                return Response({"state": 0, "error_code": 1})
            return Response({"state": 1, "inn": pending["inn"], "id": secrets.token_hex(8), "entityId": 1})

        @get("/_emulator")
        async def control() -> dict[str, Any]:
            return {"taxpayers": [asdict(t) for t in emulator.taxpayers], "captcha": emulator.captcha,
                    "throttle_per_minute": emulator.throttle_per_minute,
                    "processing_polls": emulator.processing_polls, "down": emulator.down,
                    "open_requests": len(emulator.requests)}

        @post("/_emulator/modes")
        async def modes(request: Request[Any, Any, Any]) -> dict[str, Any]:
            data = await request.json()
            emulator.captcha = bool(data.get("captcha", emulator.captcha))
            emulator.down = bool(data.get("down", emulator.down))
            if "throttle_per_minute" in data:
                emulator.throttle_per_minute = data["throttle_per_minute"]
                emulator.finds.clear()
            if "processing_polls" in data:
                emulator.processing_polls = int(data["processing_polls"])
            return await control()

        @post("/_emulator/persons", status_code=201)
        async def add_person(request: Request[Any, Any, Any]) -> dict[str, Any]:
            data = await request.json()
            emulator.taxpayers.append(Taxpayer(**{k: str(data.get(k, "")) for k in Taxpayer.__dataclass_fields__}))
            return {"taxpayers": len(emulator.taxpayers)}

        @post("/_emulator/forget")
        async def forget() -> dict[str, int]:
            count = len(emulator.requests)
            emulator.requests.clear()
            return {"forgotten": count}

        return Litestar([page, find, answer, control, modes, add_person, forget], openapi_config=None)
