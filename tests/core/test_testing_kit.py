"""The testing kit's promise to CI: a test that would skip for a missing part fails there instead."""

import os
import subprocess
import sys

PROBE = '''
import pytest
from core.testing import require

@pytest.fixture
def server():
    require("a server", False)

def test_needs_chromium():
    require("chromium", False)

def test_needs_a_server(server):
    pass

def test_skips_by_hand():
    pytest.skip("no redis-server here")

def test_has_everything():
    require("python", True)
'''


def run_probe(tmp_path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_probe.py").write_text(PROBE)
    # Only the kit itself: autoloading every installed pytest plugin costs seconds per run.
    env = {**os.environ, "CI": ci, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "core.testing", "-p", "no:cacheprovider",
                           "-rA", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_missing_parts_skip_locally_and_fail_in_ci(tmp_path):
    local = run_probe(tmp_path, "")
    assert local.returncode == 0 and "1 passed, 3 skipped" in local.stdout, local.stdout
    ci = run_probe(tmp_path, "true")
    assert ci.returncode == 1, ci.stdout
    assert "2 failed, 1 passed, 1 error" in ci.stdout, ci.stdout
    assert "chromium is missing" in ci.stdout and "a server is missing" in ci.stdout
    assert "skipped in CI" in ci.stdout and "no redis-server here" in ci.stdout


def test_property_tests_have_no_deadline():
    """The suite shares two cores; a slow example must not fail a maths property."""
    from hypothesis import settings

    assert settings.default.deadline is None
