import os
import shutil
import socket
import threading
import time

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def serve_in_thread(app):
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no chromium and chromedriver "
                    "(Debian packages chromium, chromium-driver)")
def test_page_in_headless_chromium(indexed, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tablegraph.serving.api import create_app
    from tablegraph.serving.service import SearchService

    idx, _, _ = indexed
    service = SearchService.open(index=str(idx))
    server, thread, url = serve_in_thread(create_app(service))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=900,900",
                 "--disable-dev-shm-usage"):
        opts.add_argument(flag)
    browser = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        browser.get(url + "/")
        box = browser.find_element(By.ID, "question")
        box.send_keys("heparin medication for every person")
        browser.find_element(By.CSS_SELECTOR, "#ask button").click()
        WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".hit")))
        hits = browser.find_elements(By.CSS_SELECTOR, ".hit")
        assert hits[0].get_attribute("data-table") == "prescriptions"
        assert "Error" not in browser.find_element(By.ID, "status").text
        bars = browser.find_elements(By.CSS_SELECTOR, ".hit .bar")
        assert len(bars) == len(hits) == 3  # every table of the tiny index, with its bar
        shot = os.environ.get("TABLEGRAPH_SCREENSHOT")
        browser.save_screenshot(shot or str(tmp_path / "page.png"))
        logs = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not logs, logs  # no failed request, nothing fetched from elsewhere
        # a mistyped word: the page says how it read the question
        box.clear()
        box.send_keys("heprain medication for every person")
        browser.find_element(By.CSS_SELECTOR, "#ask button").click()
        WebDriverWait(browser, 20).until(ec.text_to_be_present_in_element(
            (By.ID, "status"), "Read as: heparin medication for every person"))
        # when the abstention says nothing answers: that, and the set it withheld
        from tablegraph.model.abstain import ABSTAIN_FEATURES, AbstainHead

        n = len(ABSTAIN_FEATURES)
        service.retriever.abstain = AbstainHead([0.0] * n, 0.0, [0.0] * n, [1.0] * n,
                                                threshold=0.9)  # p = 0.5
        box.clear()
        box.send_keys("heparin for every person")
        browser.find_element(By.CSS_SELECTOR, "#ask button").click()
        WebDriverWait(browser, 20).until(ec.text_to_be_present_in_element(
            (By.ID, "status"), "Nothing in this database"))
        status = browser.find_element(By.ID, "status").text
        assert "(confidence 0.50). If one does: prescriptions" in status, status
        assert not status.startswith("Read as")
        box.clear()
        box.send_keys("heprain for every person")
        browser.find_element(By.CSS_SELECTOR, "#ask button").click()
        WebDriverWait(browser, 20).until(ec.text_to_be_present_in_element(
            (By.ID, "status"), "Read as: heparin for every person. Nothing in this database"))
        assert not browser.find_element(By.ID, "set").is_displayed()
    finally:
        browser.quit()
        server.should_exit = True
        thread.join(5)
