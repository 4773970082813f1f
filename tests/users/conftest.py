import pytest

from core.users.testing import FAST_HASHING


@pytest.fixture
def make_platform(make_platform):
    """The kit's factory, in English by default (messages are asserted in English here)."""

    async def factory(*args, core=None, **kwargs):
        return await make_platform(*args, core={"web": {"default_locale": "en"}, **(core or {})}, **kwargs)

    return factory


@pytest.fixture
async def platform(make_platform):
    """Every plugin, with cheap password hashing (argon2 at full cost takes ~0.15 s a hash)."""
    return await make_platform(settings=FAST_HASHING)
