"""The scoring rule asks the platform's ScoringService when there is one, and is skipped otherwise."""

import types

from core import hookimpl
from core.users.testing import make_user
from plugins.scoring.service import ScoringService
from tests.lending.helpers import lending_with_fund


class FakeScoring(ScoringService):
    """Answers by the applicant's last name; records what it was asked."""

    def __init__(self) -> None:  # no parent set-up: nothing of the real service is used
        self.asked = []

    async def applicant_of_user(self, user_id, *, last_name, first_name, middle_name="", birth_date=None, gender=""):
        return types.SimpleNamespace(last_name=last_name)

    async def assess(self, reference, applicant, **kwargs):
        self.asked.append((reference, kwargs["amount"], kwargs["term_days"]))
        return types.SimpleNamespace(outcome={"Declined": "decline", "Unsure": "review"}.get(applicant.last_name,
                                                                                          "approve"))


async def test_the_scoring_service_decides_through_the_rule(make_platform):
    fake = FakeScoring()
    plugin = types.SimpleNamespace(register_services=hookimpl(lambda register: register(fake)))
    platform = await make_platform(["notify.outbox", "lending"], extra_plugins={"fakescoring": plugin},
                                   core={"web": {"default_locale": "en"}})
    service = await lending_with_fund(platform)
    outcomes = {}
    for last_name in ("Declined", "Unsure", "Fine", ""):
        user = await make_user(platform)
        names = {"last_name": last_name, "first_name": "Ann"} if last_name else {}
        application = await service.apply(user.id, 5_000_00, 10, names=names)
        outcomes[last_name] = (application["status"], application["decision_reason"])
    assert outcomes["Declined"] == ("rejected", "rule 3 (scoring): the scoring service declined")
    assert outcomes["Unsure"] == ("submitted", "the scoring service asks for a review")
    assert outcomes["Fine"][0] == outcomes[""][0] == "approved"
    assert len(fake.asked) == 3, "no names: the scoring service is not asked"
    assert fake.asked[0][0].startswith("lending-application:") and fake.asked[0][2] == 10
