"""The viewer in a real browser: Debian's chromium, headless, driven by Selenium.

Skips only when chromium or chromedriver is missing outside CI; under CI=true a missing
browser fails (`make browser` installs it). Screenshots go to the test's tmp folder, and
also to $RFDREID_SCREENSHOTS when set (how docs/img/ is refreshed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from rfdreid.serve.gallery_search import GallerySearch

CHROMIUM = os.environ.get("RFDREID_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("RFDREID_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).is_file() or shutil.which(p))]
    if missing:
        reason = f"{', '.join(missing)} not installed; run `make browser` (apt-get chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1100,720"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _shot(driver: webdriver.Chrome, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    driver.save_screenshot(str(path))
    if os.environ.get("RFDREID_SCREENSHOTS"):
        shutil.copy(path, Path(os.environ["RFDREID_SCREENSHOTS"]) / name)
    return path


def _ranking(driver: webdriver.Chrome, lam: str) -> list[str]:
    """The shown order once the ranking for λ = `lam` has arrived."""
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, f'.ranking[data-lam="{lam}"]'))
    return driver.find_element(By.CSS_SELECTOR, ".ranking").get_attribute("data-order").split(",")


def _set_slider(driver: webdriver.Chrome, value: str) -> None:
    """Move the λ slider as a drag does: set the value and fire its input event."""
    driver.execute_script(
        "const s = document.getElementById('lam'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input'));", value)


def test_search_then_slider_reorders(browser: webdriver.Chrome, gallery_url: str,
                                     tmp_path: Path) -> None:
    browser.get(gallery_url + "/")
    Select(browser.find_element(By.ID, "choose")).select_by_value(
        "gallery:0008_c1s1_000000_00.jpg")
    _set_slider(browser, "0")
    before = _ranking(browser, "0.00")
    assert len(before) == 10 and "0008_c1s1_000000_00.jpg" not in before
    WebDriverWait(browser, 30).until(lambda d: all(  # every image loaded, at its real size
        img.get_property("complete") and img.get_property("naturalWidth") == 32
        for img in d.find_elements(By.CSS_SELECTOR, ".ranking .tile img")))
    assert browser.find_elements(By.CSS_SELECTOR, ".tile.match")
    _set_slider(browser, "1")
    after = _ranking(browser, "1.00")
    assert after != before
    assert browser.find_elements(By.CSS_SELECTOR, ".moved.up")
    assert _shot(browser, tmp_path, "serve_search.png").stat().st_size > 0


def test_upload_in_the_page(browser: webdriver.Chrome, gallery_url: str,
                            gallery_dir: Path) -> None:
    browser.get(gallery_url + "/")
    upload = browser.find_element(By.CSS_SELECTOR, '#upload input[type="file"]')
    upload.send_keys(str(sorted(gallery_dir.glob("0009_*.jpg"))[0]))
    browser.find_element(By.CSS_SELECTOR, '#upload button').click()
    order = _ranking(browser, browser.find_element(By.ID, "lam-value").text)
    assert len(order) == 10
    assert browser.find_element(By.CSS_SELECTOR, ".tile.query img").get_attribute(
        "src").startswith(gallery_url + "/upload/")


def test_run_queries_sorted_and_one_click_away(browser: webdriver.Chrome, run_url: str,
                                               tmp_path: Path) -> None:
    browser.get(run_url + "/")
    browser.find_element(By.CSS_SELECTOR, 'a[href="/queries/0/multi"]').click()
    browser.find_element(By.LINK_TEXT, "moved").click()
    WebDriverWait(browser, 30).until(lambda d: "sort=moved" in d.current_url)
    first = browser.find_element(By.CSS_SELECTOR, "#queries tr[data-index] a")
    first.click()
    assert _ranking(browser, browser.find_element(By.ID, "lam-value").text)
    _shot(browser, tmp_path, "serve_run_query.png")


def _threshold_line(driver: webdriver.Chrome, limit: str) -> tuple[str, list[str], list[str]]:
    """Once the ranking within `limit` has arrived: the name of the tile just before the
    threshold line, and the names of the hits drawn in colour and of those greyed."""
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, f'.ranking[data-max-distance="{limit}"] .threshold'))
    line = driver.find_element(By.CSS_SELECTOR, ".ranking .threshold")
    assert line.is_displayed() and line.size["height"] > 0
    before = driver.execute_script("return arguments[0].previousElementSibling.dataset.name",
                                   line)
    tiles = driver.find_elements(By.CSS_SELECTOR, ".ranking .tile:not(.query)")
    greyed = [t for t in tiles if float(t.value_of_css_property("opacity")) < 1]
    return (before, [t.get_attribute("data-name") for t in tiles if t not in greyed],
            [t.get_attribute("data-name") for t in greyed])


def test_threshold_line_and_greyed_hits(browser: webdriver.Chrome, line_url: str,
                                        line_search: GallerySearch, tmp_path: Path) -> None:
    """Image j lies at distance j from image 0 (line_search): max distance 3 draws the
    line after image 3 and greys 4..10; FPR 1e-3 (2.5 in its results.json) after image 2."""
    names = [p.name for p in line_search.paths]
    browser.get(line_url + "/")
    Select(browser.find_element(By.ID, "choose")).select_by_value(f"gallery:{names[0]}")
    _ranking(browser, "0.10")
    browser.find_element(By.ID, "max-distance").send_keys("3\t")  # tab: the change event
    assert _threshold_line(browser, "3.0") == (names[3], names[1:4], names[4:11])
    _shot(browser, tmp_path, "serve_threshold.png")
    Select(browser.find_element(By.ID, "at-fpr")).select_by_value("0.001")
    assert _threshold_line(browser, "2.5") == (names[2], names[1:3], names[3:11])
    assert browser.find_element(By.ID, "max-distance").get_attribute("value") == ""
    browser.find_element(By.ID, "rerank").click()  # B-F + re-ranking was not verified
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "not B-F + re-ranking" in browser.find_element(By.ID, "error").text
