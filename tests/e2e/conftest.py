"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Outside CI they skip, with the reason printed, when /usr/bin/chromium is missing; in CI
(CI=true) a missing browser is an error, never a silent skip.
"""

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    if shutil.which(CHROMIUM):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
    skip = pytest.mark.skip(reason=f"browser tests need {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A phone-sized screen: members and secretaries use phones.
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}, "locale": "vi-VN"}


@pytest.fixture
def e2e(live_server, cast, settings):
    """The standard cast on a live server; static files served without collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cast.url = live_server.url
    return cast


def sign_in(page, base_url, identifier, password="mat-khau-123"):
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", identifier)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
