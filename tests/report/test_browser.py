"""The report in a real headless browser: Debian's chromium driven by selenium.

Chromium comes from Debian's packages (.ci/install-browser.sh, which `make test` runs when it is
missing); selenium is pointed at /usr/bin/chromium and chromedriver, so it downloads nothing.
Outside CI the test is skipped only when chromium cannot be had; in CI (CI=true) it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000")


def _missing(why: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} in CI: .ci/install-browser.sh should have installed it")
    pytest.skip(why)


def _binaries() -> tuple[str, str]:
    def find():
        return shutil.which("chromium"), shutil.which("chromedriver")

    chromium, driver = find()
    if not (chromium and driver):
        subprocess.run(["bash", str(ROOT / ".ci" / "install-browser.sh")], check=False,
                       timeout=900)
        chromium, driver = find()
    if not (chromium and driver):
        _missing("chromium or chromedriver is not installed and could not be installed")
    return chromium, driver


@pytest.fixture
def browser(tmp_path):
    chromium, chromedriver = _binaries()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_report_renders_in_chromium(report_run, browser):
    browser.get((report_run / "report.html").as_uri())
    state = browser.execute_script("return document.readyState")
    assert state == "complete"
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    figures = browser.execute_script("""
        return Array.from(document.querySelectorAll('img, svg')).map(e => {
            const r = e.getBoundingClientRect();
            return {tag: e.tagName, w: r.width, h: r.height,
                    natural: e.tagName === 'IMG' ? e.naturalWidth * e.naturalHeight : 1,
                    done: e.tagName === 'IMG' ? e.complete : true};
        });""")
    assert len(figures) >= 6
    for f in figures:
        assert f["done"] and f["natural"] > 0 and f["w"] > 0 and f["h"] > 0, f
    title = browser.find_element("css selector", "h1").text
    assert title.startswith("autoseq report")
    cells = [td.text for td in browser.find_elements("css selector", "td")]
    assert "<script>alert(1)</script>" in cells  # shown as text, not run
    assert browser.execute_script("return document.scripts.length") == 0
