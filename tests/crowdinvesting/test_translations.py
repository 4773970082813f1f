"""Every message of staged projects and crowdinvesting has a Russian translation."""

import pytest

from tests.users.test_translations import test_every_message_is_translated as check_package


@pytest.mark.parametrize("package", ["core/projects", "plugins/crowdinvesting"])
def test_every_message_is_translated(package):
    check_package(package)
