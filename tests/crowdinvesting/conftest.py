"""These tests read messages in English: their platform's default language is English (pages ask for Russian)."""

import pytest


@pytest.fixture
async def platform(make_platform):
    return await make_platform(core={"web": {"default_locale": "en"}})
