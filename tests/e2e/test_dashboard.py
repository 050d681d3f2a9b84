"""The dashboard in headless Chromium against `npsloop local`: no console error, one point per period, the band,
a screenshot in tests/output/; /nps over real HTTP equals the hand computation."""

import shutil
import time
from pathlib import Path

import pytest
import requests

from ..seed import BY_HAND, seed_payloads
from .conftest import ROOT, start_local, stop_local
from .test_pipeline import post_generic

pytestmark = pytest.mark.e2e
KEY = "npl_e2e-dashboard-key"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"
OUTPUT = ROOT / "tests" / "output"
RANGE = {"from": "2026-03-01", "to": "2026-08-31"}


@pytest.fixture(scope="module")
def seeded_local(tmp_path_factory):
    stack = start_local(tmp_path_factory.mktemp("dashboard"), "--api-key", KEY)
    try:
        payloads = seed_payloads()
        for i, payload in enumerate(payloads):
            assert post_generic(stack, payload, msg_id=f"msg_seed_{i}").status_code == 202
        total = sum(p + pa + d for p, pa, d in BY_HAND.values())

        def all_counted():
            answer = requests.get(f"{stack.api}/nps", params=RANGE, headers={"X-Api-Key": KEY}, timeout=30)
            return answer.status_code == 200 and sum(r["responses"] for r in answer.json()["periods"]) == total

        stack.wait_for(all_counted, timeout=60, what=f"{total} responses counted")
        yield stack
    finally:
        assert stop_local(stack) == 0


def test_nps_over_http_equals_the_hand_computation(seeded_local):
    answer = requests.get(f"{seeded_local.api}/nps", params={**RANGE, "period": "month"},
                          headers={"X-Api-Key": KEY}, timeout=30)  # fmt: skip
    rows = answer.json()["periods"]
    assert [(r["period"], r["promoters"], r["passives"], r["detractors"]) for r in rows] == [
        (label, *counts) for label, counts in BY_HAND.items()]  # fmt: skip
    assert rows[2]["nps"] is None and rows[0]["nps"] == 25.0
    assert requests.get(f"{seeded_local.api}/nps", timeout=30).status_code == 401


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (.ci/ensure-chromium)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1320,2600",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_dashboard_in_chromium_has_no_console_error_one_point_per_period_and_the_band(seeded_local, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{seeded_local.api}/dashboard?lang=de")
    assert browser.find_elements(By.NAME, "key"), "the login form asks for the key"
    browser.get(f"{seeded_local.api}/dashboard?key={KEY}&from={RANGE['from']}&to={RANGE['to']}&lang=de")
    assert "key=" not in browser.current_url  # the key is taken once, then a session cookie stands for it
    assert not [c for c in browser.get_cookies() if KEY in c["value"]]
    cookie = next(c for c in browser.get_cookies() if c["name"] == "npsloop_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    points = browser.find_elements(By.CSS_SELECTOR, "svg.trend g.point")
    assert len(points) == len(BY_HAND) == 6
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.trend g.point.empty")) == 1
    assert browser.find_elements(By.CSS_SELECTOR, "svg.trend path.band")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.trend circle.significant")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.histogram rect.score")) == 11
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Kritiker" in text and "Preis" in text and "Onboarding" in text
    assert "max@example.com" not in browser.page_source and "m***@e***.com" in text

    time.sleep(0.5)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    OUTPUT.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(OUTPUT / "dashboard.png"))
    browser.get(f"{seeded_local.api}/dashboard?from=2026-03-01&to=2026-08-31&lang=en&segment=touchpoint"
                "&value=support&period=quarter")  # fmt: skip
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.trend g.point")) == 3  # 2026-Q1 to 2026-Q3
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    browser.save_screenshot(str(OUTPUT / "dashboard-support-quarter.png"))
