"""Every message of the meetings and code-signature plugins has a Russian translation (the protocol is Russian)."""

import pytest

from tests.users.test_translations import test_every_message_is_translated as check_package


@pytest.mark.parametrize("package", ["plugins/meetings", "plugins/signatures/code"])
def test_every_message_is_translated(package):
    check_package(package)
