"""The demo data loads, shows a counted meeting and an open one, and loads again without creating anything."""

from plugins.meetings import chain
from plugins.meetings.demo import load


async def counts(platform):
    tables = ("meetings_cases", "meetings_claims", "meetings_meetings", "meetings_ballots", "meetings_participants",
              "meetings_protocols", "meetings_events")
    return {t: await platform.db.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


async def test_demo_data_is_complete_and_idempotent(platform):
    steps = []
    await load(platform, steps.append)
    first = await counts(platform)
    await load(platform, steps.append)
    assert await counts(platform) == first
    meetings = await platform.db.fetch("SELECT id, status, form FROM meetings_meetings ORDER BY starts_at")
    assert [(m["status"], m["form"]) for m in meetings] == [("closed", "absentee"), ("open", "in_person")]
    assert first["meetings_protocols"] == 1 and first["meetings_ballots"] == 9 and first["meetings_participants"] == 2
    for meeting in meetings:
        assert await chain.verify(platform.db, meeting["id"]) == []
    results = await platform.db.fetch(
        "SELECT result FROM meetings_items WHERE meeting_id = $1 ORDER BY position", meetings[0]["id"])
    # 8 000 000 of 8 800 000 votes in observation: everyone but the absent logistics firm; the bank votes its
    # secured part too (observation), and its "against" on the procedure leaves 3 500 000 of 8 800 000: rejected.
    assert [r["result"]["outcome"] for r in results] == ["adopted", "rejected", "adopted"]


async def test_the_protocol_reads_in_russian_from_the_records(platform):
    from plugins.meetings.protocol import ProtocolService, render_html

    await load(platform, lambda _step: None)
    held = await platform.db.fetchval("SELECT id FROM meetings_meetings WHERE status = 'closed'")
    html = render_html(await platform.service(ProtocolService).context(held))
    assert "Протокол собрания кредиторов" in html and "ООО «СтройМонтаж»" in html
    # Absentee: those whose ballots came in time are present, 8 000 000 of 8 800 000 votes.
    assert html.count("Заочный бюллетень, полученный в срок") == 3
    assert "90.91% голосов надлежаще уведомлённых кредиторов. Собрание правомочно" in html
    assert html.count("Решили") == 2 and "Решение не принято." in html
    assert render_html(await platform.service(ProtocolService).context(held)) == html  # the same records, the same text


async def test_the_demo_pages_render_in_russian(make_platform):
    from core.testing import app_client, make_identity
    from core.users.service import Users

    platform = await make_platform(core={"web": {"default_locale": "ru"}})
    await load(platform, lambda _step: None)
    users = platform.service(Users)
    manager = await users.find("manager@example.com")
    creditor = await users.find("creditor1@example.com")
    held, running = [r["id"] for r in await platform.db.fetch(
        "SELECT id FROM meetings_meetings ORDER BY starts_at")]
    case = await platform.db.fetchval("SELECT id FROM meetings_cases")
    organizer = make_identity("admin.access", "meetings.organize", user_id=manager.id)
    async with app_client(platform, identity=organizer) as http:
        for path in ("/admin/meetings", f"/admin/meetings/cases/{case}", f"/admin/meetings/{held}",
                     f"/admin/meetings/{running}"):
            page = await http.get(path)
            assert page.status_code == 200 and "СтройМонтаж" in page.text, path
        assert "Дела о банкротстве" in (await http.get("/admin/meetings")).text
    async with app_client(platform, identity=make_identity(user_id=creditor.id)) as http:
        page = await http.get(f"/meetings/{running}")
        assert page.status_code == 200 and "Получить код для этих ответов" in page.text
        assert (await http.get(f"/meetings/{held}/protocol.pdf")).content.startswith(b"%PDF")
        assert "Собрания кредиторов" in (await http.get("/meetings")).text
