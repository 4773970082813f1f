"""Every message of lending's pages has a Russian translation, and the pages speak Russian."""

from tests.users.test_translations import test_every_message_is_translated as check_package


def test_every_message_is_translated():
    check_package("plugins/lending")
