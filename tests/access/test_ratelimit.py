"""Rate limits shared by every process."""

from core.access.ratelimit import Limit, RateLimiter


async def test_hits_peek_reset_and_windows(platform):
    limiter = platform.service(RateLimiter)
    limit = Limit("test.thing", 3, 60)
    decisions = [await limiter.hit(limit, "s1") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 0 < decisions[-1].retry_after_s <= 60
    assert not (await limiter.peek(limit, "s1")).allowed
    assert (await limiter.peek(limit, "s2")).allowed, "subjects are counted apart"
    await limiter.reset(limit, "s1")
    assert (await limiter.peek(limit, "s1")).allowed
    await limiter.hit(limit, "s3", cost=3)
    await platform.db.execute("UPDATE access_rate_limits SET window_start = now() - interval '2 minutes'")
    assert (await limiter.hit(limit, "s3")).hits == 1, "a new window starts after the old one"
    assert await limiter.purge_expired() == 0
