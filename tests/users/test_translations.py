"""Every message of the users, access and notifications pages and code has a Russian translation."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["core/users", "core/access", "core/notifications", "plugins/notify/outbox"]
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2")]
JINJA = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def translated() -> set[str]:
    found = set()
    for po in ROOT.glob("**/locale/ru/LC_MESSAGES/messages.po"):
        if ".venv" in po.parts:
            continue
        with po.open("rb") as fh:
            found |= {m.id for m in read_po(fh) if m.id and m.string}
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_every_message_is_translated(package):
    known = translated()
    options = {"**/templates/**.html": JINJA, "**/templates/**.txt": JINJA}
    missing = sorted(
        {
            message if isinstance(message, str) else message[0]
            for _f, _l, message, _c, _x in extract_from_dir(
                ROOT / package, METHODS, options_map=options, keywords={"_": None, "gettext": None}
            )
        }
        - known
    )
    assert not missing, f"add these to {package}/locale/ru/LC_MESSAGES/messages.po: {missing}"
