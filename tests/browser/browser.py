"""Debian's Chromium driven by Selenium, and the web app served for real on 127.0.0.1.

Nothing is downloaded: the browser is /usr/bin/chromium and the driver /usr/bin/chromedriver
(Debian's `chromium` and `chromium-driver`, installed by `.ci/browser-up`), and Selenium Manager
is kept offline (`SE_OFFLINE=true`). Missing locally, the browser tests are skipped; with
CI=true they fail.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("NCKH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("NCKH_CHROMEDRIVER", "/usr/bin/chromedriver")
DESKTOP = (1280, 900)
PHONE = (390, 844)


def require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (os.path.exists(p)
                                                           or shutil.which(p))]
    if missing:
        message = (f"the browser tests need {' and '.join(missing)} (Debian: apt-get install "
                   "chromium chromium-driver; .ci/browser-up does it)")
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def chromium(width: int = DESKTOP[0], height: int = DESKTOP[1]) -> Iterator[Any]:
    require_browser()
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager never reaches out
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--lang=vi", f"--window-size={width},{height}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@contextmanager
def serving(web: Flask, port: int) -> Iterator[str]:
    """The app on 127.0.0.1:`port` in a thread, for as long as the block lasts."""
    server = make_server("127.0.0.1", port, web, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(10)


def shot(driver: Any, folder: Path, name: str, size: tuple[int, int]) -> Path:
    """A screenshot of the whole page at `size` (width; the height grows to the page's)."""
    driver.set_window_size(*size)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(size[0], max(size[1], min(height + 40, 4000)))
    path = folder / f"{name}-{'phone' if size == PHONE else 'desktop'}.png"
    driver.save_screenshot(str(path))
    return path


def wait_for(driver: Any, text: str, timeout: float = 15) -> None:
    """Until the page shows `text` (a click's navigation has landed)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: text in d.page_source)
