"""Every message of the kyc plugins has a Russian translation, including texts marked ``N_`` (stored in English)."""

from babel.messages.extract import extract_from_dir

from tests.users.test_translations import JINJA, METHODS, ROOT, translated


def test_every_message_is_translated():
    options = {"**/templates/**.html": JINJA, "**/templates/**.txt": JINJA}
    found = {
        message if isinstance(message, str) else message[0]
        for _f, _l, message, _c, _x in extract_from_dir(
            ROOT / "plugins/kyc", METHODS, options_map=options, keywords={"_": None, "gettext": None, "N_": None}
        )
    }
    missing = sorted(found - translated())
    assert not missing, f"add these to plugins/kyc/locale/ru/LC_MESSAGES/messages.po: {missing}"


def test_menu_entries_are_translated():
    from plugins.kyc import plugin
    from plugins.kyc.passport import plugin as passport_plugin

    known = translated()
    items = [*plugin.site_menu(), *plugin.admin_menu(), *passport_plugin.admin_menu()]
    missing = [text for item in items for text in (item.label, item.description) if text and text not in known]
    assert not missing, missing
