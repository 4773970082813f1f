"""Every message of the scoring pages has a Russian translation (the check of tests/users, for this plugin)."""

from tests.users import test_translations as users_translations


def test_every_scoring_message_is_translated():
    users_translations.test_every_message_is_translated("plugins/scoring")
