"""The dashboard in a real headless Chromium: it loads without console errors, its charts hold
the seeded data, the pipeline card lists the stages, the date filter changes the numbers and the
CSV links download CSV."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from consumers.api.app import create_app
from tests.consumers.api.server import running
from tests.consumers.reports.seeding import call, insert_calls

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="needs the Debian packages chromium and chromium-driver (/usr/bin/chromium)")


@pytest.fixture
def served(settings, store):
    """The app on 127.0.0.1 with 3 calls in the last 7 days and 2 more 20 days ago."""
    now = datetime.now(timezone.utc)
    recent = [call(now - timedelta(days=2, minutes=i), model="gpt-4o", prompt_type="chat",
                   cost_total_usd=Decimal("1.25")) for i in range(3)]
    older = [call(now - timedelta(days=20, minutes=i), model="claude", provider="anthropic", prompt_type="summarize",
                  account_id="beta", cost_total_usd=Decimal("0.50")) for i in range(2)]
    insert_calls(store, recent + older)
    with running(create_app(settings, store)) as url:
        yield url


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1400,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_loaded(driver, times: int) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60).until(lambda d: int(d.execute_script("return document.body.dataset.loaded || 0")) >= times
                                    or d.find_element("id", "error").is_displayed())
    assert not driver.find_element("id", "error").is_displayed(), driver.find_element("id", "error").text


def text(driver, element_id: str) -> str:
    return driver.find_element("id", element_id).text


def test_dashboard_renders_seeded_data_filters_and_downloads(served, browser):
    browser.get(served + "/")
    wait_loaded(browser, 1)

    assert text(browser, "kpi-calls") == "5"
    assert text(browser, "kpi-cost") == "$4.75"
    by_model = browser.execute_script(
        "const c = window.ailedgerCharts['chart-by-model'];"
        "return {labels: c.data.labels, data: c.data.datasets[0].data};")
    assert dict(zip(by_model["labels"], by_model["data"])) == {"gpt-4o": 3.75, "claude": 1.0}
    trend_total = browser.execute_script(
        "return window.ailedgerCharts['chart-cost-trend'].data.datasets[0].data.reduce((a, b) => a + b, 0);")
    assert trend_total == pytest.approx(4.75)
    assert len(browser.find_elements("css selector", "#calls tbody tr")) == 5
    prompt_types = [row.text.split()[0] for row in browser.find_elements("css selector", "#prompt-types tbody tr")]
    assert sorted(prompt_types) == ["chat", "summarize"]
    assert "no alerts" in text(browser, "alerts")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda d: d.find_element("id", "pipeline-card").is_displayed())
    stages = [row.text for row in browser.find_elements("css selector", "#pipeline tbody tr")]
    assert len(stages) == 6 and stages[0].startswith("pricing (worker) no topic")  # none created here

    browser.find_element("css selector", ".presets button[data-days='7']").click()
    wait_loaded(browser, 2)
    assert text(browser, "kpi-calls") == "3"
    assert text(browser, "kpi-cost") == "$3.75"
    labels = browser.execute_script("return window.ailedgerCharts['chart-by-model'].data.labels;")
    assert labels == ["gpt-4o"]

    href = browser.find_element("css selector", "a.csv[data-report='cost'][data-section='by_model']") \
        .get_attribute("href")
    response = httpx.get(href, timeout=30)
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["model"], Decimal(r["cost_usd"])) for r in rows] == [("gpt-4o", Decimal("3.75"))]
    calls_csv = httpx.get(browser.find_element("id", "calls-csv").get_attribute("href"), timeout=30).text
    assert calls_csv.startswith("event_id,") and len(calls_csv.splitlines()) == 4

    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
