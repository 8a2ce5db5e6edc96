"""The dashboard in a real browser: Debian's Chromium, driven headless through Selenium."""

import shutil
import time
from datetime import UTC, datetime

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.serve_support import Server

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1300,1000",
]


@pytest.fixture
def browser(tmp_path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, ".ci/run installs Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    started = webdriver.Chrome(service=Service(driver), options=options)
    yield started
    started.quit()


@pytest.fixture
def station():
    served = Server("dj-takeover", "--manual-clock")
    yield served
    served.stop()


def on_air(browser) -> str:
    return browser.find_element(By.CSS_SELECTOR, "[data-testid=on-air-title]").text


def log_types(browser) -> list[str]:
    return [item.get_attribute("data-type") for item in browser.find_elements(By.CSS_SELECTOR, "#log li")]


def test_the_page_follows_the_station_and_its_buttons_drive_it(browser, station, tmp_path):
    wait = WebDriverWait(browser, 15)
    page = next(line.split()[1] for line in station.banner if line.strip().startswith("page:"))
    browser.get(page)
    wait.until(lambda b: b.find_element(By.ID, "connection").text == "connected")
    wait.until(lambda b: on_air(b) == "First Light")
    assert "#token" not in browser.current_url  # the token leaves the address bar
    # The station's state arrives on connect (snapshot=true), before anything happens on air.
    wait.until(lambda b: log_types(b) == ["now_playing"])
    # Both clocks: the wire's (today, on the wall clock) and the scenario's.
    wait.until(lambda b: b.find_element(By.ID, "scenario-clock").text == "scenario Mon 2026-01-19T10:00:00Z")
    assert (
        browser.find_element(By.ID, "clock").text[:10]
        == station.http.get("/api/v1/sim/state").json()["station_time"][:10]
        == datetime.now(UTC).strftime("%Y-%m-%d")
    )

    # The station changes track: the page follows from the event stream.
    assert station.http.post("/api/v1/sim/advance", json={"by": "3m"}).status_code == 200
    wait.until(lambda b: on_air(b) == "Second Wind")
    assert "now_playing" in log_types(browser)

    # A button press produces the right events, and the page shows them.
    browser.find_element(By.CSS_SELECTOR, ".skip").click()
    wait.until(lambda b: on_air(b) == "Third Rail")
    browser.find_element(By.CSS_SELECTOR, ".emergency").click()
    wait.until(lambda b: "priority.emergency" in log_types(b))
    wait.until(lambda b: b.find_element(By.CSS_SELECTOR, ".ladder li.active").text == "0 emergency")
    browser.find_element(By.CSS_SELECTOR, ".connect").click()  # DJ Mike, waiting behind the emergency
    wait.until(lambda b: "dj_connect" in log_types(b))
    wait.until(lambda b: "DJ Mike" in b.find_element(By.CSS_SELECTOR, ".djs").text)
    state = station.http.get("/api/v1/sim/state").json()
    assert state["stations"][0]["on_air"]["kind"] == "emergency"
    assert [dj["username"] for dj in state["stations"][0]["djs"]] == ["DJ Mike"]

    # Heartbeats never reach the log; filters hide a type.
    assert "ping" not in log_types(browser)
    browser.find_element(By.XPATH, "//label[contains(., 'now_playing')]/input").click()
    hidden = [
        li.is_displayed() for li in browser.find_elements(By.CSS_SELECTOR, '#log li[data-type="now_playing"]')
    ]
    assert hidden and not any(hidden)

    screenshot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_a_refused_token_asks_for_another_and_reconnects_with_backoff(browser, station):
    wait = WebDriverWait(browser, 15)
    browser.get(station.url + "/#token=not-a-valid-token")
    wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
    assert "refused" in browser.find_element(By.ID, "login-error").text
    browser.find_element(By.ID, "token-input").send_keys(station.token)
    browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
    wait.until(lambda b: b.find_element(By.ID, "connection").text == "connected")
    # The connection drops: the page says so, retries after 1 s (the documented backoff), reconnects.
    browser.execute_script("app.socket.close()")
    wait.until(lambda b: b.find_element(By.ID, "connection").text.startswith("reconnecting in 1s"))
    started = time.monotonic()
    wait.until(lambda b: b.find_element(By.ID, "connection").text == "connected")
    assert 0.8 < time.monotonic() - started < 5
