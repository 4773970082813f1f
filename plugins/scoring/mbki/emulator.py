"""MBKI's side: the CIG SOAP service at ``POST /Service/Service.asmx`` (as on MBKI's test host).

Operations (chosen by the body's element, as SOAPAction may be absent):

* ``SearchFrontOffice``: the test persons of :mod:`plugins.scoring.emulation` are found by
  taxpayer number and get a ``CreditinfoId``; anyone else is not found (an empty list);
* ``GetReport``: the report of a known ``CreditinfoId``: a CIP score with risk grade and
  probability of default, and a summary of contracts (invented for the emulator, derived
  from each person's profile);
* a wrong ``CigWsHeader`` user name or password is a ``soap:Client`` fault "Authentication
  failed", HTTP 500 as SOAP 1.1 has it; so is an unknown operation or subject.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

from litestar import Request, Response, post

from plugins.scoring.emulation import TEST_PERSONS, ProviderEmulator, TestPerson
from plugins.scoring.mbki import soap

PATH = "/Service/Service.asmx"
XML = "text/xml; charset=utf-8"


def creditinfo_id(person: TestPerson) -> str:
    return f"CI{int(person.taxpayer_number) % 10**8:08d}"


def grade(score: int) -> str:
    for floor, letter in ((650, "A"), (580, "B"), (500, "C"), (430, "D")):
        if score >= floor:
            return letter
    return "E"


class MbkiEmulator(ProviderEmulator):
    provider = "mbki"
    title = "MBKI"

    def __init__(self, *, username: str, password: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.username = username
        self.password = password
        self.subjects = {creditinfo_id(p): p for p in TEST_PERSONS}

    def search(self, request: ET.Element) -> ET.Element:
        itn = soap.text_of(request, "identification")
        answer = ET.Element(soap.q("SearchFrontOfficeResponse"))
        entities = soap.add(soap.add(soap.add(soap.add(answer, "SearchFrontOfficeResult"), "Result"), "FrontOffice"),
                            "CigEntities")
        listing = soap.add(entities, "CigEntityBusinessObjectList")
        for person in TEST_PERSONS:
            if person.taxpayer_number == itn:
                entity = soap.add(listing, "CigEntityBusinessObject")
                soap.add_fields(entity, {"CreditinfoId": creditinfo_id(person), "Identification": itn,
                                         "Name": f"{person.last_name} {person.first_name} {person.middle_name}"})
        return answer

    def report(self, person: TestPerson) -> ET.Element:
        h = person.history
        score = round(person.fico * Decimal("0.9"))
        answer = ET.Element(soap.q("GetReportResponse"))
        root = soap.add(soap.add(soap.add(soap.add(answer, "GetReportResult"), "CigResult"), "Result"), "Root")
        soap.add_fields(soap.add(root, "Subject"), {
            "CreditinfoId": creditinfo_id(person), "TaxpayerNumber": person.taxpayer_number,
            "LastName": person.last_name, "FirstName": person.first_name, "MiddleName": person.middle_name,
            "DateOfBirth": person.birth_date.isoformat()})
        cip = soap.add(root, "CipScore")
        soap.add_fields(cip, {"Score": str(score), "RiskGrade": grade(score),
                              "ProbabilityOfDefault": f"{Decimal(900 - score) / Decimal(2000):.4f}"})
        reasons = soap.add(cip, "Reasons")
        if h.max_delay_days:
            soap.add(reasons, "Reason", "Current arrears on consumer contracts")
        if h.requests_last_week > 3:
            soap.add(reasons, "Reason", "Many recent inquiries")
        soap.add_fields(soap.add(root, "Summary"), {
            "OpenContracts": str(h.open_deals + 1), "ClosedContracts": str(h.closed_deals + 2),
            "ContractsInArrears": str(1 if h.max_delay_days else 0), "AmountInArrears": f"{h.overdue:.2f}",
            "MaxDaysPastDue": str(h.max_delay_days), "Inquiries30Days": str(h.requests_last_week * 3)})
        return answer

    def routes(self) -> list[Any]:
        emulator = self

        @post(PATH, status_code=200)
        async def service(request: Request[Any, Any, Any]) -> Response[Any]:
            if (disturbed := await emulator.disturbance()) is not None:
                emulator.record("call", "disturbed")
                return disturbed
            root = soap.parse((await request.body()).decode("utf-8", "replace"))
            operation = soap.body_of(root) if root is not None else None
            if operation is None:
                emulator.record("call", "malformed")
                return Response(soap.fault("soap:Client", "Malformed SOAP envelope"), status_code=500, media_type=XML)
            name = soap.local(operation.tag)
            header = soap.first(root, "CigWsHeader")
            if soap.text_of(header, "UserName") != emulator.username or \
                    soap.text_of(header, "Password") != emulator.password:
                emulator.record(name, "refused")
                return Response(soap.fault("soap:Client", "Authentication failed: invalid user name or password"),
                                status_code=500, media_type=XML)
            if name == "SearchFrontOffice":
                emulator.record(name, soap.text_of(operation, "identificationType"))
                return Response(soap.envelope(emulator.search(operation)), media_type=XML)
            if name == "GetReport":
                person = emulator.subjects.get(soap.text_of(operation, "creditinfoId"))
                emulator.record(name, "known" if person else "unknown")
                if person is None:
                    return Response(soap.fault("soap:Client", "Subject not found"), status_code=500, media_type=XML)
                return Response(soap.envelope(emulator.report(person)), media_type=XML)
            emulator.record(name, "unknown operation")
            return Response(soap.fault("soap:Client", f"Unknown operation {name}"), status_code=500, media_type=XML)

        return [service]


def build_emulator(settings: Any, **options: Any) -> MbkiEmulator:
    return MbkiEmulator(username=settings.username, password=settings.password.get_secret_value(), **options)
