"""Every message of lending's pages has a Russian translation, and the pages speak Russian."""

from tests.users.test_translations import test_every_message_is_translated as check_package


def test_every_message_is_translated():
    check_package("plugins/lending")


async def test_the_calculator_speaks_russian(make_platform):
    from core.testing import app_client
    from tests.lending.helpers import lending_with_fund

    platform = await make_platform(core={"web": {"default_locale": "ru"}})
    await lending_with_fund(platform)
    async with app_client(platform) as http:
        page = await http.get("/lending/calculator", params={"amount": "10000", "term_days": "30"})
    assert page.status_code == 200
    assert "Калькулятор займа" in page.text and "Полная стоимость кредита" in page.text
