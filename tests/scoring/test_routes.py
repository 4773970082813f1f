"""Admin pages and the JSON API: who may see what, and bad input answered 4xx naming the field."""

from __future__ import annotations

import pytest

from core.testing import app_client, make_identity
from plugins.scoring.emulation import TEST_PERSONS

PERSON = TEST_PERSONS[0]
APPLICANT = {"last_name": PERSON.last_name, "first_name": PERSON.first_name, "middle_name": PERSON.middle_name,
             "birth_date": PERSON.birth_date.isoformat(), "taxpayer_number": PERSON.taxpayer_number,
             "passport": PERSON.passport}


@pytest.fixture
async def http(world):
    identity = make_identity("scoring.view", "scoring.inquire", "scoring.reports.view")
    async with app_client(world.platform, identity=identity) as client:
        yield client


async def test_an_inquiry_through_the_api_and_its_pages(http, world):
    body = {"provider": "ubki", "request_id": "api:1", "consent_ref": "consent:api:1", "reference": "loan:api:1",
            "applicant": APPLICANT, "amount": "1500.00", "currency": "UAH", "term_days": 30}
    created = await http.post("/api/v1/scoring/inquiries", json=body)
    assert created.status_code == 200, created.text
    inquiry = created.json()
    assert inquiry["status"] == "done" and "applicant" not in inquiry
    again = await http.post("/api/v1/scoring/inquiries", json=body)
    assert again.json()["id"] == inquiry["id"]

    listed = await http.get("/api/v1/scoring/inquiries", params={"taxpayer_number": PERSON.taxpayer_number})
    assert [i["id"] for i in listed.json()] == [inquiry["id"]]
    report = await http.get(f"/api/v1/scoring/inquiries/{inquiry['id']}/report")
    assert report.json()["applicant"]["last_name"] == PERSON.last_name and report.json()["answers"][0]["document"]

    for page in ("/admin/scoring", f"/admin/scoring/inquiries/{inquiry['id']}",
                 f"/admin/scoring/inquiries/{inquiry['id']}/report", "/admin/scoring/new"):
        shown = await http.get(page)
        assert shown.status_code == 200, page
    assert PERSON.last_name in (await http.get(f"/admin/scoring/inquiries/{inquiry['id']}/report")).text
    assert PERSON.last_name not in (await http.get(f"/admin/scoring/inquiries/{inquiry['id']}")).text
    # the sandbox shows what the emulator was asked
    emulated = (await http.get("/sandbox/ubki/_emulator")).json()
    assert emulated["provider"] == "ubki" and any(c["operation"] == "report" for c in emulated["calls"])


async def test_an_assessment_through_the_api(http):
    body = {"reference": "loan:api:2", "consent_ref": "consent:api:2", "applicant": APPLICANT,
            "providers": ["ubki", "mbki"]}
    decided = await http.post("/api/v1/scoring/assessments", json=body)
    assert decided.status_code == 200, decided.text
    assert decided.json()["outcome"] in ("approve", "review", "decline")
    stored = await http.get("/api/v1/scoring/assessments/loan:api:2")
    assert stored.json()["decision_id"] == decided.json()["decision_id"]


BAD_INPUT = [
    ({"applicant": {**APPLICANT, "birth_date": "20.08.1974"}}, "applicant.birth_date"),
    ({"amount": "12,5x"}, "amount"),
    ({"provider": "acme"}, "provider"),
    ({"consent_ref": ""}, "consent_ref"),
    ({"term_days": "soon"}, "term_days"),
]


async def test_bad_input_is_a_4xx_naming_the_field(http, world):
    for change, field in BAD_INPUT:
        body = {"provider": "ubki", "request_id": "bad", "consent_ref": "c", "applicant": APPLICANT, **change}
        refused = await http.post("/api/v1/scoring/inquiries", json=body)
        assert 400 <= refused.status_code < 500 and field in refused.text, refused.text
    assert await world.platform.db.fetchval("SELECT count(*) FROM scoring_inquiries") == 0


async def test_the_admin_form_asks_and_says_what_is_wrong(http, world):
    form = {"provider": "mbki", "consent_ref": "consent:form", "reference": "loan:form", **APPLICANT}
    refused = await http.post("/admin/scoring/new", data={**form, "birth_date": "yesterday"})
    assert refused.status_code == 422 and "birth_date" in refused.text
    asked = await http.post("/admin/scoring/new", data=form)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/admin/scoring/inquiries/")
    audit = await world.platform.db.fetchval("SELECT count(*) FROM audit_log WHERE action = $1",
                                             "scoring.inquiry.requested")
    assert audit == 1


async def test_the_log_refuses_unknown_filters_and_ids(http):
    assert (await http.get("/api/v1/scoring/inquiries", params={"status": "lost"})).status_code == 400
    assert (await http.get("/api/v1/scoring/inquiries/not-an-id")).status_code == 404


async def test_reports_need_their_own_permission(world):
    async with app_client(world.platform, identity=make_identity("scoring.view")) as viewer:
        inquiry = await world.scoring.inquire("ubki", world.request("perm"))
        assert (await viewer.get(f"/api/v1/scoring/inquiries/{inquiry.id}")).status_code == 200
        assert (await viewer.get(f"/api/v1/scoring/inquiries/{inquiry.id}/report")).status_code == 403
        assert (await viewer.post("/api/v1/scoring/inquiries", json={})).status_code == 403
