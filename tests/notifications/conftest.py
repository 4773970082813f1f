import pytest

from core.users.testing import FAST_HASHING


@pytest.fixture
async def platform(make_platform):
    """Every plugin, with cheap password hashing (argon2 at full cost takes ~0.15 s a hash)."""
    return await make_platform(settings=FAST_HASHING)
