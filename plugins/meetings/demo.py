"""Demo data: a bankruptcy case of «СтройМонтаж» with its register of claims and two meetings.

* The first meeting was absentee and is over: ballots came by post (typed in by the manager), it was
  counted and its protocol made.
* The second is in person with remote participation and is open now: two creditors have registered,
  the tax office has not. Sign in as one of them to vote with a code (the demo outbox shows it), or as
  the manager to chair the video room and close the meeting.

Accounts (demo only): the arbitration manager ``manager@example.com`` and the creditors
``creditor1@example.com`` ... ``creditor3@example.com``, all with :data:`PASSWORD`.
Loading again creates nothing: the case is found by its number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.access import Identity
from core.access.context import acting_as
from core.users.service import Users
from plugins.meetings.cases import CaseService
from plugins.meetings.protocol import ProtocolService
from plugins.meetings.registration import RegistrationService
from plugins.meetings.service import MeetingService
from plugins.meetings.voting import VotingService

PASSWORD = "birch ledger demo 2026"
CASE_NUMBER = "А40-178245/2026"
MANAGER = ("manager@example.com", "Петров П. П., арбитражный управляющий")
CREDITORS = (
    ("creditor1@example.com", "АО «Банк Восток»"),
    ("creditor2@example.com", "ООО «ПромПоставка»"),
    ("creditor3@example.com", "ФНС России"),
)


def rub(amount: int) -> int:
    return amount * 100


async def account(platform: Any, login: str, name: str, roles: tuple[str, ...]) -> Any:
    users = platform.service(Users)
    return await users.find(login) or await users.create(login, PASSWORD, display_name=name, locale="ru", roles=roles)


def identity_of(user: Any, *permissions: str) -> Identity:
    return Identity(user_id=user.id, display_name=user.display_name, roles=frozenset(),
                    permissions=frozenset(permissions), locale="ru", via="demo")


async def load(platform: Any, progress: Any) -> None:
    cases = platform.service(CaseService)
    if await platform.db.fetchval("SELECT 1 FROM meetings_cases WHERE number = $1", CASE_NUMBER):
        return
    with acting_as("demo"):
        progress("meetings: the arbitration manager and three creditors")
        manager_user = await account(platform, *MANAGER, roles=("customer", "meeting_organizer"))
        creditors = [await account(platform, login, name, ("customer",)) for login, name in CREDITORS]
        manager = identity_of(manager_user, "admin.access", "meetings.organize")
        progress("meetings: the case of «СтройМонтаж» and its register of claims")
        case = await cases.create_case(manager, number=CASE_NUMBER, debtor_name="ООО «СтройМонтаж»",
                                       debtor_kind="company", stage="observation",
                                       court="Арбитражный суд города Москвы", debtor_itn="7707083893",
                                       debtor_address="г. Москва, ул. Строителей, д. 5", organizer_name=MANAGER[1])
        claims = [
            await cases.add_claim(manager, case["id"], creditor_name=CREDITORS[0][1], principal_minor=rub(4_500_000),
                                  secured_minor=rub(1_500_000), penalty_minor=rub(210_000), user_id=creditors[0].id,
                                  court_act="Определение от 12.09.2026"),
            await cases.add_claim(manager, case["id"], creditor_name=CREDITORS[1][1], principal_minor=rub(2_300_000),
                                  user_id=creditors[1].id, court_act="Определение от 03.10.2026"),
            await cases.add_claim(manager, case["id"], creditor_name=CREDITORS[2][1], creditor_kind="authority",
                                  principal_minor=rub(1_200_000), penalty_minor=rub(95_000), user_id=creditors[2].id,
                                  court_act="Определение от 17.10.2026"),
            await cases.add_claim(manager, case["id"], creditor_name="ООО «ЛогистикПлюс»",
                                  principal_minor=rub(800_000), contact="logistic@example.com"),
        ]
        meetings = platform.service(MeetingService)
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        try:
            progress("meetings: the first meeting (absentee, counted, protocol made)")
            await held_meeting(platform, manager, case, claims, now)
            progress("meetings: the second meeting (in person with the video room, open now)")
            await open_meeting(platform, manager, creditors, case, claims, now)
        finally:
            meetings.clock.set(None)


async def held_meeting(platform: Any, manager: Identity, case: Any, claims: list[Any], now: dt.datetime) -> None:
    meetings = platform.service(MeetingService)
    starts = now - dt.timedelta(days=20)
    meetings.clock.set(starts - dt.timedelta(days=16))
    meeting = await meetings.create(manager, case["id"], title="Первое собрание кредиторов", form="absentee",
                                    starts_at=starts, closes_at=starts + dt.timedelta(days=3), notice_method="post",
                                    materials="Отчёт временного управляющего и анализ финансового состояния: "
                                              "у управляющего по адресу должника, по рабочим дням с 10 до 17.")
    report = await meetings.add_item(manager, meeting["id"], question="Принять к сведению отчёт временного управляющего",
                                     decision="general")
    procedure = await meetings.add_item(manager, meeting["id"], decision="procedure_choice",
                                        question="Обратиться в арбитражный суд с ходатайством о признании должника "
                                                 "банкротом и открытии конкурсного производства")
    place = await meetings.add_item(manager, meeting["id"], question="Место проведения следующих собраний",
                                    decision="general", form="schedule",
                                    options=["Москва, офис управляющего", "Только онлайн на площадке"])
    await meetings.convene(manager, meeting["id"])
    meetings.clock.set(starts)
    await meetings.open(manager, meeting["id"])
    voting = platform.service(VotingService)
    received = starts + dt.timedelta(days=1)
    for claim, answers in zip(claims, (("for", "against", 1), ("for", "for", 1), ("for", "for", 0)), strict=False):
        await voting.enter_paper(manager, meeting["id"], claim["id"], {
            str(report["id"]): {"vote": answers[0]}, str(procedure["id"]): {"vote": answers[1]},
            str(place["id"]): {"option": answers[2]}}, received)
    meetings.clock.set(starts + dt.timedelta(days=3))
    await meetings.close(manager, meeting["id"])
    await platform.service(ProtocolService).ensure(meeting["id"])


async def open_meeting(platform: Any, manager: Identity, creditors: list[Any], case: Any, claims: list[Any],
                       now: dt.datetime) -> None:
    meetings = platform.service(MeetingService)
    starts = now - dt.timedelta(hours=1)
    meetings.clock.set(now - dt.timedelta(days=12))
    meeting = await meetings.create(manager, case["id"], title="Собрание кредиторов: отчёт и порядок продажи",
                                    form="in_person", starts_at=starts, closes_at=now + dt.timedelta(days=7),
                                    notice_method="electronic", place="Видеокомната на площадке",
                                    materials="Проект положения о порядке продажи имущества — в карточке вопроса 2.")
    await meetings.add_item(manager, meeting["id"], question="Отчёт управляющего о ходе процедуры", decision="general")
    await meetings.add_item(manager, meeting["id"], question="Утвердить положение о порядке продажи имущества",
                            decision="general", form="yes_no",
                            draft_resolution="Утвердить положение в редакции управляющего.")
    await meetings.add_item(manager, meeting["id"], question="Образовать комитет кредиторов из трёх членов",
                            decision="committee_formation")
    await meetings.convene(manager, meeting["id"])
    meetings.clock.set(now)
    await meetings.open(manager, meeting["id"])
    registration = platform.service(RegistrationService)
    for user, claim in zip(creditors[:2], claims[:2], strict=True):
        await registration.register_identity(identity_of(user), meeting["id"], claim["id"])
