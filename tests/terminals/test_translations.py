"""Every message of the terminals plugin (customer pages, the kiosk, the admin area) has a Russian translation."""

from tests.users.test_translations import test_every_message_is_translated as check_package


def test_every_message_is_translated():
    check_package("plugins/terminals")


async def test_the_kiosk_speaks_russian(kiosk, tplatform):
    from core.testing import app_client

    async with app_client(tplatform) as screen:
        page = await screen.get("/terminals/kiosk/kiosk-1", headers={"accept-language": "ru"})
    assert "Настройка терминала" in page.text
