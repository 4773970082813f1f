"""UBKI's side of the protocol: ``POST /auth`` and ``POST /xml`` under the emulator's base URL.

Point the provider's ``api_url`` at the base. The emulator knows the test persons of
:mod:`plugins.scoring.emulation` (UBKI's official FICO test persons) by taxpayer number:

* report type 46 answers their official FICO score (component ``scorefico``);
* report type 10 answers identification (``cki``), their payday deals (``crdeal``) and the
  MFI score with its attributes (component 23), invented for the emulator;
* anyone else: an answer with no components (nothing known).

Session keys last until 23:59:59 Kyiv time, as UBKI's do; ``POST /_emulator/expire-sessions``
ends them at once so a client's re-login can be tested. Wrong credentials are answered
HTTP 401 with ``errcode``.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from litestar import Request, Response, post

from plugins.scoring.emulation import ProviderEmulator, TestPerson, find_person
from plugins.scoring.ubki import protocol

SESSION_EXPIRED = "Security error. The lifetime of the session key expired."


class UbkiEmulator(ProviderEmulator):
    provider = "ubki"
    title = "UBKI"

    def __init__(self, *, login: str, password: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.login = login
        self.password = password
        self.sessions: dict[str, dt.datetime] = {}
        self._requests = 0

    def state(self) -> dict[str, Any]:
        return {"sessions": len(self.sessions)}

    def reset(self) -> None:
        super().reset()
        self.sessions.clear()

    def expire_sessions(self) -> None:
        self.sessions = {key: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1) for key in self.sessions}

    # -- answers ------------------------------------------------------------------------------------

    def new_session(self) -> dict[str, Any]:
        key = secrets.token_hex(16).upper()
        now = dt.datetime.now(protocol.KYIV)
        ends = dt.datetime.combine(now.date(), dt.time(23, 59, 59), tzinfo=protocol.KYIV)
        self.sessions[key] = ends
        return {"errcode": "0", "errtext": "", "sessid": key, "datecr": now.strftime("%Y-%m-%d %H:%M:%S"),
                "dateed": ends.strftime("%Y-%m-%d %H:%M:%S"), "userlogin": self.login, "userid": "1001",
                "agrid": "77", "agrname": "Sandbox MFI", "role": "1"}

    def tech(self, error: tuple[str, str] = ("", "")) -> dict[str, Any]:
        self._requests += 1
        return {"trace": {"step": {"name": "sandbox", "stm": "", "ftm": ""}},
                "error": {"errtype": error[0], "errtext": error[1]},
                "reqinfo": {"reqid": f"req2#{self._requests:012d}"},
                "billing": {"balance": {"value": "100000.00", "date": dt.date.today().isoformat(), "time": ""}}}

    def report(self, person: TestPerson | None, report_type: str) -> list[dict[str, Any]]:
        if person is None:
            return []
        if report_type == protocol.FICO_SCORE:
            return [{"id": "46", "descr": "FICO", "scorefico": {
                "UniqueID": person.taxpayer_number, "Score": str(person.fico),
                "ReasonCode1": "D6" if person.fico < 600 else "", "ReasonCode2": "", "ReasonCode3": "",
                "ReasonCode4": ""}}]
        h = person.history
        ident = {"okpo": person.taxpayer_number, "lname": person.last_name, "fname": person.first_name,
                 "mname": person.middle_name, "bdate": person.birth_date.isoformat()}
        deals = [{"dlref": f"{person.taxpayer_number[-4:]}-{n}", "dlcelcred": "14", "dlamt": "5000.00",
                  "dlflstat": "1" if n < h.open_deals else "2", "dldonor": "MFO"}
                 for n in range(h.open_deals + h.closed_deals)]
        return [
            {"id": "1", "descr": "Identification", "cki": {"ident": ident}},
            {"id": "2", "descr": "Credit deals", "crdeal": deals},
            {"id": "23", "descr": "MFI scoring", "scoremfo": {**{k: ident[k] for k in ("lname", "fname", "mname",
                                                                                             "bdate")},
                                                                "inn": person.taxpayer_number,
                                                                "scoremfo": str(h.mfi_score),
                                                                "scoremfodate": dt.date.today().isoformat()},
             "attributes": {"openmfo": str(h.open_deals), "closemfo": str(h.closed_deals),
                            "soldmfo": str(h.sold_deals), "closenoexp": str(h.last_closed_on_time),
                            "maxnowdaymfo": str(h.max_delay_days), "sumnowexpmfo": f"{h.overdue:.2f}",
                            "dlamtcurmfo": f"{h.debt:.2f}", "cntreqsweek": str(h.requests_last_week)}},
        ]

    def routes(self) -> list[Any]:
        emulator = self

        @post("/auth", status_code=200)
        async def auth(request: Request[Any, Any, Any]) -> Response[Any]:
            emulator.record("auth")
            if (disturbed := await emulator.disturbance()) is not None:
                return disturbed
            try:
                block = protocol.auth_block(json.loads(await request.body()))
            except ValueError:
                block = {}
            if block.get("login") != emulator.login or block.get("pass") != emulator.password:
                return Response({"doc": {"auth": {"errcode": "3", "errtext": "Invalid login or password",
                                                  "errtextclient": "Невірний логін або пароль"}}}, status_code=401)
            return Response({"doc": {"auth": emulator.new_session()}})

        @post("/xml", status_code=200)
        async def report(request: Request[Any, Any, Any]) -> Response[Any]:
            if (disturbed := await emulator.disturbance()) is not None:
                emulator.record("report", "disturbed")
                return disturbed
            try:
                ubki = json.loads(await request.body())["doc"]["ubki"]
                query = ubki["req_envelope"]["req_xml"]["request"]
                ident = query["i"]["ident"]
            except (ValueError, KeyError, TypeError):
                emulator.record("report", "malformed")
                return Response({"ubkidata": {"tech": emulator.tech(("1", "Invalid request format"))}})
            expires = emulator.sessions.get(str(ubki.get("sessid", "")))
            if expires is None or expires <= dt.datetime.now(dt.UTC):
                emulator.record("report", "session refused")
                return Response({"ubkidata": {"tech": emulator.tech(("2", SESSION_EXPIRED))}})
            report_type = str(query.get("reqtype", ""))
            if report_type not in protocol.REPORT_TYPES:
                emulator.record("report", f"type {report_type}")
                return Response({"ubkidata": {"tech": emulator.tech(("5", f"No access to template {report_type}"))}})
            person = find_person(taxpayer_number=str(ident.get("okpo", "")))
            emulator.record("report", f"type {report_type} {'known' if person else 'unknown'}")
            return Response({"ubkidata": {"tech": emulator.tech(), "comp": emulator.report(person, report_type)}})

        @post("/_emulator/expire-sessions", status_code=200)
        async def expire() -> dict[str, Any]:
            emulator.expire_sessions()
            return {"expired": len(emulator.sessions)}

        return [auth, report, expire]


def build_emulator(settings: Any, **options: Any) -> UbkiEmulator:
    """An emulator accepting the plugin's configured credentials."""
    return UbkiEmulator(login=settings.login, password=settings.password.get_secret_value(), **options)
