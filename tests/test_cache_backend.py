"""The Redis cache backend keeps one client per connection pool (config/cache.py) and otherwise
behaves as Django's: against a real Redis (CI runs one; elsewhere skipped with the reason)."""

import os

import pytest

from config.cache import ReusingRedisCache
from tests.conftest import REDIS_URL, require_redis

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_cache():
    require_redis()
    cache = ReusingRedisCache(REDIS_URL, {"KEY_PREFIX": "test-cache-backend"})
    yield cache
    cache.delete_many(["a", "b", "n"])


def test_one_client_serves_every_call(redis_cache):
    first = redis_cache._cache.get_client("a")
    assert redis_cache._cache.get_client("b") is first
    assert redis_cache._cache.get_client(write=True) is first  # one server: one pool for both


def test_reads_writes_and_counters_work_as_with_django_s_backend(redis_cache):
    redis_cache.set("a", {"tên": "Chi bộ Khu phố 1"}, 30)
    redis_cache.set("n", 1, 30)
    assert redis_cache.get("a") == {"tên": "Chi bộ Khu phố 1"}
    assert redis_cache.incr("n") == 2
    assert redis_cache.get_many(["a", "n", "b"]) == {"a": {"tên": "Chi bộ Khu phố 1"}, "n": 2}
    redis_cache.delete("a")
    assert redis_cache.get("a") is None


def test_production_settings_choose_it_for_a_redis_url():
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    env = {**os.environ, "CACHE_URL": REDIS_URL, "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "config.cache.ReusingRedisCache", out.stderr[-2000:]
