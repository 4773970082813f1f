"""MBKI (Міжнародне бюро кредитних історій, Creditinfo platform): search, then the report.

SOAP 1.1 against the CIG web service, authenticated by a ``CigWsHeader`` in every
envelope. ``SearchFrontOffice`` finds the subject's ``CreditinfoId`` from the taxpayer
number (identification type 130); ``GetReport`` (report 200017 with the CIP score 200101)
returns the report as embedded XML. No official public specification was found: the
shapes follow third-party integrations (best effort), and the report's content is read
leniently, by element names.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from core.contracts.scoring import (
    AUTH_FAILED,
    INVALID_REQUEST,
    UNREADABLE,
    ProviderDefaults,
    ScoringRequest,
    ScoringResult,
    ScoringStatus,
)
from plugins.scoring.mbki import soap
from plugins.scoring.wire import Answer, Wire

PRODUCTION_API = "https://secure.credithistory.com.ua/service/api/index.php"
TEST_API = "https://test2.credithistory.com.ua/Service/Service.asmx"
IDENTIFICATION_ITN = "130"
INDIVIDUAL = "Entity.Type.Individual"

#: Summary elements of the report and the policy factors they become.
SUMMARY_FACTORS = {
    "OpenContracts": "mbki.open_contracts", "ClosedContracts": "mbki.closed_contracts",
    "ContractsInArrears": "mbki.contracts_in_arrears", "MaxDaysPastDue": "mbki.max_days_past_due",
    "Inquiries30Days": "mbki.inquiries_30_days",
}
AMOUNT_FACTORS = {"AmountInArrears": "mbki.amount_in_arrears", "ProbabilityOfDefault": "mbki.probability_of_default"}


def search_body(taxpayer_number: str, client_ip: str) -> ET.Element:
    operation = ET.Element(soap.q("SearchFrontOffice"))
    key_value = soap.add(soap.add(operation, "parameters"), "keyValue")
    soap.add_fields(key_value, {"typeExportCode": INDIVIDUAL, "identification": taxpayer_number,
                                "identificationType": IDENTIFICATION_ITN, "ip": client_ip})
    return operation


def report_body(creditinfo_id: str, *, report_id: str, score_id: str, version: str, client_ip: str) -> ET.Element:
    operation = ET.Element(soap.q("GetReport"))
    soap.add(operation, "reportId", report_id)
    key_value = soap.add(soap.add(operation, "doc"), "keyValue")
    soap.add_fields(key_value, {"ciid": creditinfo_id, "creditinfoId": creditinfo_id, "remoteIp": client_ip,
                                "reportVersion": version, "cipScore": score_id})
    return operation


class MbkiProvider(ProviderDefaults):
    name = "mbki"
    title = "MBKI"

    def __init__(self, *, username: str, password: str, api_url: str = PRODUCTION_API, culture: str = "uk-UA",
                 report_id: str = "200017", score_id: str = "200101", report_version: str = "2",
                 client_ip: str = "127.0.0.1", timeout_s: float = 30,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.username = username
        self.password = password
        self.api_url = api_url
        self.culture = culture
        self.report_id = report_id
        self.score_id = score_id
        self.report_version = report_version
        self.client_ip = client_ip
        self.wire = Wire(self.name, timeout_s, transport)

    async def call(self, operation: ET.Element) -> tuple[ET.Element, Answer] | ScoringResult:
        """One SOAP call: the operation's answer element, or an ERROR result (faults included)."""
        name = soap.local(operation.tag)
        body = soap.envelope(operation, soap.auth_header(self.username, self.password, self.culture))
        answer = await self.wire.post(self.api_url, body=body, headers={
            "content-type": "text/xml; charset=utf-8", "soapaction": f'"{soap.CIG}{name}"'})
        if isinstance(answer, ScoringResult):
            return answer
        root = soap.parse(answer.text)
        if root is None:
            return self.wire.failure(UNREADABLE, f"MBKI answered {name} with HTTP {answer.status_code} that is not "
                                                 f"XML", document=answer.text)
        if (found := soap.fault_of(root)) is not None:
            code, message = found
            if re.search(r"auth|password|login|credential", f"{code} {message}", re.I):
                return self.wire.failure(AUTH_FAILED, f"MBKI refused our credentials: {message}", retryable=False,
                                         document=answer.text)
            # soap:Server faults are the service's trouble; soap:Client ones are about our request.
            return self.wire.failure("mbki_fault", f"MBKI {name}: {message or code}",
                                     retryable="server" in code.lower(), document=answer.text)
        result = soap.body_of(root)
        if result is None or answer.status_code != 200:
            return self.wire.failure(UNREADABLE, f"MBKI answered {name} with HTTP {answer.status_code} and no body",
                                     document=answer.text)
        return result, answer

    async def score(self, request: ScoringRequest) -> ScoringResult:
        itn = request.applicant.taxpayer_number.strip()
        if not re.fullmatch(r"\d{10}", itn):
            return self.error(INVALID_REQUEST, "MBKI needs the applicant's 10-digit taxpayer number (РНОКПП)")
        found = await self.call(search_body(itn, self.client_ip))
        if isinstance(found, ScoringResult):
            return found
        search, search_answer = found
        ids = [el.text.strip() for el in soap.descendants(search, "CreditinfoId") if el.text and el.text.strip()]
        if not ids:
            return ScoringResult(ScoringStatus.NO_DATA, self.name, document=search_answer.text)
        got = await self.call(report_body(ids[0], report_id=self.report_id, score_id=self.score_id,
                                          version=self.report_version, client_ip=self.client_ip))
        if isinstance(got, ScoringResult):
            return got
        report, answer = got
        return self.read_report(ids[0], report, answer.text)

    def read_report(self, creditinfo_id: str, report: ET.Element, text: str) -> ScoringResult:
        cip = soap.first(report, "CipScore")
        score_text = soap.text_of(cip, "Score")
        factors: dict[str, Any] = {}
        summary = soap.first(report, "Summary")
        for element, factor in SUMMARY_FACTORS.items():
            value = soap.text_of(summary, element)
            if value.lstrip("-").isdigit():
                factors[factor] = int(value)
        for element, factor in AMOUNT_FACTORS.items():
            try:
                value = Decimal(soap.text_of(report, element))
            except InvalidOperation:
                continue
            if value.is_finite():
                factors[factor] = value
        score = int(score_text) if score_text.isdigit() else None
        if score is not None:
            factors["mbki.score"] = score
        details = {"creditinfo_id": creditinfo_id, "grade": soap.text_of(cip, "RiskGrade"),
                   "reasons": [r.text for r in soap.descendants(cip, "Reason") if r.text] if cip is not None else [],
                   "summary": soap.flatten(summary) if summary is not None else {}}
        if score is None and not factors:
            return ScoringResult(ScoringStatus.NO_DATA, self.name, report_ref=creditinfo_id, details=details,
                                 document=text)
        return ScoringResult(ScoringStatus.DONE, self.name, score=score, report_ref=creditinfo_id, details=details,
                             factors=factors, document=text)
