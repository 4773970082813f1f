"""Meetings tests read messages in English (pages of the demo ask for Russian)."""

import pytest


@pytest.fixture
async def platform(make_platform):
    return await make_platform(core={"web": {"default_locale": "en"}})
