"""The web page in a real headless Chromium (Selenium + Debian's chromium-driver); skipped where none is installed."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="rnnlab serve needs fastapi")
pytest.importorskip("uvicorn", reason="rnnlab serve needs uvicorn")
from rnnlab.serving import create_app

pytest.importorskip("selenium", reason="the page tests drive Chromium with selenium (a dev dependency)")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(
    CHROMEDRIVER is None or CHROMIUM is None,
    reason="no headless browser: install Debian's chromium and chromium-driver (apt-get install chromium "
    "chromium-driver) to run the page tests",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


KEY = "page-test-key-0123456789"


def _start(app):
    import uvicorn

    from rnnlab.serving.server import uvicorn_options

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, **uvicorn_options("127.0.0.1", port)))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the service did not start"
    return srv, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(model_dirs):
    srv, thread, url = _start(create_app(model_dirs))
    yield url
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def keyed_server(model_dirs):
    srv, thread, url = _start(create_app({"sentiment": model_dirs["sentiment"]}, api_key=KEY))
    yield url
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _open(browser, server: str, model: str):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(server + "/")
    wait = WebDriverWait(browser, 20)
    wait.until(lambda d: len(d.find_elements("css selector", "#model option")) == 4)
    Select(browser.find_element("id", "model")).select_by_value(model)
    return wait


def _run_text(browser, wait, text: str) -> None:
    box = browser.find_element("id", "text")
    browser.execute_script("arguments[0].value = arguments[1]", box, text)  # typing 20k keys takes half a minute
    browser.find_element("id", "run-text").click()
    wait.until(
        lambda d: "answered" in d.find_element("id", "status").text or "error" in d.find_element("id", "status").text
    )


def test_tagger_highlights_entities(browser, server):
    wait = _open(browser, server, "ner")
    _run_text(browser, wait, "Maria Lopez flew from Madrid to Tokyo .")
    marks = browser.find_elements("css selector", "#output mark.ent")
    assert [m.get_attribute("data-type") for m in marks] and "Madrid" in " ".join(m.text for m in marks)
    colours = {m.get_attribute("data-type"): m.value_of_css_property("background-color") for m in marks}
    assert all(c != "rgba(0, 0, 0, 0)" for c in colours.values())


def test_extractor_fills_the_template_beside_the_ad(browser, server):
    wait = _open(browser, server, "ads")
    _run_text(browser, wait, "Appartement T3 de 65 m² à Toulon, 245 000 €, 2 chambres. Tél 06 12 34 56 78")
    price = browser.find_element("css selector", '#template tr[data-field="price_eur"] td:nth-child(2)')
    assert price.text == "245000"
    marked = {m.get_attribute("data-type") for m in browser.find_elements("css selector", "#output mark.ent")}
    assert {"price_eur", "surface_m2", "phone"} <= marked


def test_classifier_shows_label_and_probabilities(browser, server):
    wait = _open(browser, server, "sentiment")
    _run_text(browser, wait, "a wonderful film")
    assert browser.find_element("id", "label").text in ("negative", "positive")
    assert len(browser.find_elements("css selector", "#probabilities tr")) == 2
    words = browser.find_elements("css selector", "#explanation span.weight")  # which words decided, shaded
    assert [w.text for w in words] == ["a", "wonderful", "film"]
    assert all("weight" in w.get_attribute("title") for w in words)


def test_forecaster_plots_an_uploaded_csv(browser, server, series_csv, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(series_csv, encoding="utf-8")
    wait = _open(browser, server, "load")
    browser.find_element("id", "csv").send_keys(str(path))
    browser.find_element("id", "run-csv").click()
    wait.until(lambda d: d.find_elements("css selector", "svg.forecast-plot polyline"))
    assert len(browser.find_elements("css selector", "svg.forecast-plot polyline")) == 2


def test_errors_are_shown_not_thrown(browser, server):
    wait = _open(browser, server, "ner")
    _run_text(browser, wait, "x" * 20_001)
    status = browser.find_element("id", "status")
    assert "error 413" in status.text and "20001 characters" in status.text


def test_the_page_asks_for_the_api_key_once(browser, keyed_server):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(keyed_server + "/")
    wait = WebDriverWait(browser, 20)
    wait.until(lambda d: d.find_element("id", "key-panel").is_displayed())
    assert "error 401" in browser.find_element("id", "status").text
    browser.find_element("id", "api-key").send_keys(KEY)
    browser.find_element("id", "use-key").click()
    wait.until(lambda d: len(d.find_elements("css selector", "#model option")) == 1)
    assert not browser.find_element("id", "key-panel").is_displayed()
    _run_text(browser, wait, "a wonderful film")
    assert browser.find_element("id", "label").text in ("negative", "positive")
    browser.refresh()  # the key is kept for the tab: not asked again
    wait.until(lambda d: len(d.find_elements("css selector", "#model option")) == 1)
    assert not browser.find_element("id", "key-panel").is_displayed() and KEY not in browser.page_source
