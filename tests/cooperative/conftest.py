"""Cooperative tests read messages in English and start on a fixed business date."""

import datetime as dt

import pytest

START = dt.date(2026, 12, 1)


@pytest.fixture
async def platform(make_platform):
    platform = await make_platform(core={"web": {"default_locale": "en"}})
    from core.jobs.runtime import Jobs

    await platform.service(Jobs).calendar.set(START)
    return platform
