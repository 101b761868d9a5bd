"""Screenshots of the main pages with the demo data, for the README and for review.

Usage: .venv/bin/python scripts/screenshots.py [OUT_DIR]   (default var/shots)
Runs its own server on a throw-away SQLite database seeded with seed_demo.
"""

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "var" / "shots")
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "chibo-demo-2026"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    var = tempfile.mkdtemp(prefix="chibo-shots-")
    env = {**os.environ, "CHIBO_VAR_DIR": var, "DJANGO_DEBUG": "true"}
    env.pop("DATABASE_URL", None)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen(
        [python, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{BASE}/login/")  # noqa: S310 - our own local server
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            shoot(browser, "bithu", {"width": 390, "height": 844}, "phone")
            shoot(browser, "capuy", {"width": 1280, "height": 860}, "desktop")
            shoot(browser, "dangvien", {"width": 390, "height": 844}, "member")
            browser.close()
    finally:
        server.terminate()
        server.wait()
    print(f"screenshots in {OUT}")


def shoot(browser, username, viewport, prefix):
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{BASE}/login/")
    page.screenshot(path=OUT / f"{prefix}-login.png")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.screenshot(path=OUT / f"{prefix}-home.png", full_page=True)
    page.goto(f"{BASE}/units/")
    page.screenshot(path=OUT / f"{prefix}-tree.png", full_page=True)
    links = page.locator(".tree a", has_text="Tổ dân phố 1")
    if links.count():
        links.first.click()
        page.wait_for_load_state()
        page.screenshot(path=OUT / f"{prefix}-unit.png", full_page=True)
        member_links = page.locator("#member-list tbody a")
        if member_links.count():
            member_links.first.click()
            page.wait_for_load_state()
            page.screenshot(path=OUT / f"{prefix}-member.png", full_page=True)
    for name, path in (
        ("dashboard", "/dashboard/"),
        ("drafts", "/resolutions/"),
        ("register", "/resolutions/register/"),
        ("tasks", "/resolutions/tasks/mine/"),
        ("inbox", "/inbox/"),
    ):
        page.goto(f"{BASE}{path}")
        page.wait_for_load_state()
        page.screenshot(path=OUT / f"{prefix}-{name}.png", full_page=True)
    page.context.close()


if __name__ == "__main__":
    main()
