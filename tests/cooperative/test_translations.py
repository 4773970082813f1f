"""Every message of the cooperative's pages has a Russian translation, and the pages speak Russian."""

from tests.users.test_translations import test_every_message_is_translated as check_package


def test_every_message_is_translated():
    check_package("plugins/cooperative")


async def test_the_program_page_speaks_russian(make_platform):
    from core.testing import app_client
    from plugins.cooperative.programs import program_fields
    from plugins.cooperative.service import CooperativeService
    from tests.cooperative.helpers import PROGRAM

    platform = await make_platform(core={"web": {"default_locale": "ru"}})
    service = platform.service(CooperativeService)
    await service.create_program(program_fields(dict(PROGRAM), "RUB"))
    async with app_client(platform) as http:
        page = await http.get("/cooperative/flat")
    assert page.status_code == 200
    assert "Паевой фонд" in page.text and "Очередь" in page.text
