"""Playwright (sync API) fixtures driving Debian's Chromium on a phone-sized screen.

Use from a test module with `pytest_plugins = ["tests.support.browser"]` and mark the tests
`@pytest.mark.browser`. One Chromium runs for the whole session (`browser`); each test gets
fresh, isolated phone-sized browser contexts from `phones` (`phones.new_page()` per person),
plus a full-page screenshot helper and a no-horizontal-overflow check.

Why the asyncio juggling below: between two calls, Playwright's sync API leaves its own event
loop marked as the thread's running loop (it runs that loop in a greenlet and resumes it on
the next call). While it is marked, `asyncio.run()` in any other fixture (the PostgreSQL
`database_url`, `run_with_orm`) and every later pytest-asyncio test of the session fail with
"cannot be called from a running event loop". So the loop is marked running only while a
Playwright call from the test's own code is in progress, and cleared again when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import greenlet
import pytest
from playwright._impl import _sync_base
from playwright.sync_api import Browser, BrowserContext, Error, Page, expect, sync_playwright

from tests.support.required import missing

# Debian's Chromium unless CHROMIUM names another (as `scripts/test` honours it too).
CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A common phone (about an iPhone 12-15): the layout must work at this width.
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts"  # git-ignored
TIMEOUT_MS = 15_000

_original_wait_for_future = _sync_base.wait_for_future


def _wait_then_release_loop(loop: asyncio.AbstractEventLoop, fiber: Any, future: Any) -> None:
    """Playwright's wait, with its loop marked running only for the length of the call."""
    if greenlet.getcurrent().parent is not None:
        # A sync call from inside a Playwright callback (page.on, route): the loop is
        # suspended in a greenlet below this one and must stay marked running.
        _original_wait_for_future(loop, fiber, future)
        return
    asyncio._set_running_loop(loop)
    try:
        _original_wait_for_future(loop, fiber, future)
    finally:
        asyncio._set_running_loop(None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        # Skipped on a developer's machine, a failure under CI (never a silent pass).
        missing(
            f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk, "
            "or set CHROMIUM=/path/to/chromium)"
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_sync_base, "wait_for_future", _wait_then_release_loop)
        expect.set_options(timeout=TIMEOUT_MS)  # 5 s by default: tight on a busy machine
        manager = sync_playwright()
        playwright = manager.start()
        loop = playwright._loop  # start() leaves it marked running: clear it until stop()
        asyncio._set_running_loop(None)
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield chromium
            finally:
                chromium.close()
        finally:
            asyncio._set_running_loop(loop)  # stop() resumes the loop without a wait
            playwright.stop()
            asyncio._set_running_loop(None)


class Phones:
    """Phone-sized browser contexts, one per person (each with its own cookies)."""

    def __init__(self, browser: Browser, screenshot_dir: Path) -> None:
        self._browser = browser
        self._screenshot_dir = screenshot_dir
        self._contexts: list[BrowserContext] = []

    def new_page(self, **overrides: Any) -> Page:
        """A page in a fresh context: another person on another phone."""
        context = self._browser.new_context(**{**PHONE, **overrides})
        context.set_default_timeout(TIMEOUT_MS)
        self._contexts.append(context)
        return context.new_page()

    def screenshot(self, page: Page, name: str) -> Path:
        """A full-page PNG in the test's tmp_path, copied to test-artifacts/ to look at."""
        path = self._screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        shutil.copyfile(path, ARTIFACTS_DIR / path.name)
        return path

    @staticmethod
    def assert_fits(page: Page) -> None:
        """Nothing sticks out sideways: the page is no wider than the phone's screen."""
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size
        assert viewport is not None
        assert width <= viewport["width"], f"{page.url}: {width}px wide on {viewport['width']}px"

    def keep_evidence_of_failure(self, test_name: str) -> None:
        """Each open page's screenshot and HTML, into test-artifacts/, to see what went wrong."""
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", test_name)
        for c, context in enumerate(self._contexts):
            for p, page in enumerate(context.pages):
                name = f"{stem}-failed-{c}-{p}"
                with contextlib.suppress(Error):  # a crashed page: keep what can be kept
                    page.screenshot(path=str(ARTIFACTS_DIR / f"{name}.png"), full_page=True)
                    html = f"<!-- {page.url} -->\n{page.content()}"
                    (ARTIFACTS_DIR / f"{name}.html").write_text(html)

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def phones(browser: Browser, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Phones]:
    phones = Phones(browser, tmp_path)
    try:
        yield phones
        if request.node.stash.get(_CALL_FAILED, False):
            phones.keep_evidence_of_failure(request.node.name)
    finally:
        phones.close()
