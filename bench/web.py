"""The web connector, measured in headless Chromium against a Tether on loopback.

The agent is the in-process scripted fake of the tests (it answers at once), so
what is measured is Tether's own path: HTTP in, the engine, the WebSocket out,
the page's JavaScript.

1. First streamed character: from the page sending a request to the first
   piece of the reply shown in the page, against a baseline in the same
   request: the page's own message shown back to it (the same POST and
   WebSocket path, without the engine and the agent).
2. Approval round trip: the agent asks (`approval.requested`) → the page shows
   the card → a click (made by the page as soon as the card appears) → the
   agent has its answer (`tool.allowed`), against the same approval answered
   in-process (`engine.handle_approval`) with no browser.
3. Memory of the web connector with 20 open pages (each a logged-in session
   and a WebSocket), against 1 open page: the Python allocations of the
   server's side (Tether, uvicorn, Starlette, wsproto, asyncio; tracemalloc),
   and their growth per page.

Figures are medians of several rounds.

    PYTHONPATH=. python bench/web.py
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.connectors.web.support import ServedTether, scenarios
from tether.connectors.base import ApprovalAnswer, ApprovalChoice
from tether.core.config import TetherConfig
from tether.core.events import APPROVAL_REQUESTED, TOOL_ALLOWED, Event

ROUNDS = 9
PAGES = 20


def _browser(profile: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def _log_in(driver: webdriver.Chrome, served: ServedTether) -> None:
    driver.get(f"{served.url}/#token={served.token}")
    deadline = time.monotonic() + 10
    while not driver.find_element(By.ID, "composer-input").is_displayed():
        assert time.monotonic() < deadline, "the page did not log in"
        time.sleep(0.02)
    time.sleep(0.3)  # the WebSocket is open


_FIRST_CHARACTER = """
const done = arguments[arguments.length - 1];
const list = document.getElementById("conversation");
const users = list.querySelectorAll(".entry.user").length;
const replies = list.querySelectorAll(".entry.reply").length;
let echoed = null;
const observer = new MutationObserver(() => {
  if (echoed === null && list.querySelectorAll(".entry.user").length > users) {
    echoed = performance.now() - started;
  }
  const shown = list.querySelectorAll(".entry.reply .text");
  if (shown.length > replies && shown[shown.length - 1].textContent.length > 0) {
    observer.disconnect();
    done([performance.now() - started, echoed]);
  }
});
observer.observe(list, {childList: true, subtree: true, characterData: true});
const started = performance.now();
fetch("/api/message", {method: "POST", headers: {"content-type": "application/json",
  "x-tether-csrf": state.csrf}, body: JSON.stringify({chat: state.chat, text: "hello"})});
"""

_AUTO_APPROVE = """
new MutationObserver(() => {
  const open = ".approval:not(.settled) .approve:not([disabled])";
  for (const button of document.querySelectorAll(open)) {
    button.click();
  }
}).observe(document.getElementById("approvals"), {childList: true, subtree: true});
"""


class _Stopwatch:
    """approval.requested → tool.allowed, timed on the server's clock."""

    def __init__(self) -> None:
        self.asked: float | None = None
        self.times: list[float] = []
        self.answered = asyncio.Event()
        self.waiting = asyncio.Event()

    async def requested(self, event: Event) -> None:
        self.asked = time.perf_counter()
        self.waiting.set()

    async def allowed(self, event: Event) -> None:
        if self.asked is not None:
            self.times.append((time.perf_counter() - self.asked) * 1e3)
            self.asked = None
        self.answered.set()


def _config(root: Path) -> TetherConfig:
    project = root / "project"
    project.mkdir(exist_ok=True)
    return TetherConfig(
        approved_directories=(project,),
        audit_log_path=root / "audit.jsonl",
        web_enabled=True,
        web_port=0,
        web_state_dir=root / "state",
        # Every round asks again: "always" is never pressed, and edit mode is off.
        rate_limit_rpm=10_000,
        rate_limit_burst=10_000,
    )


def first_character(driver: webdriver.Chrome, served: ServedTether) -> tuple[float, float]:
    _log_in(driver, served)
    firsts, baselines = [], []
    for _ in range(ROUNDS):
        first, echoed = driver.execute_async_script(_FIRST_CHARACTER)
        firsts.append(first)
        baselines.append(echoed)
        time.sleep(0.05)
    return statistics.median(firsts), statistics.median(baselines)


def approval_round_trip(driver: webdriver.Chrome, served: ServedTether) -> tuple[float, float]:
    assert served.engine is not None
    engine = served.engine
    watch = _Stopwatch()
    engine.event_bus.subscribe(APPROVAL_REQUESTED, watch.requested)
    engine.event_bus.subscribe(TOOL_ALLOWED, watch.allowed)
    _log_in(driver, served)
    driver.execute_script(_AUTO_APPROVE)
    for _ in range(ROUNDS):
        watch.answered.clear()
        driver.execute_script(
            "fetch('/api/message', {method: 'POST', headers: {'content-type': "
            "'application/json', 'x-tether-csrf': state.csrf}, "
            "body: JSON.stringify({chat: state.chat, text: 'deploy'})})"
        )
        served.call(asyncio.wait_for(watch.answered.wait(), 10))
        while engine.is_busy("web:main"):
            time.sleep(0.01)
    browser = statistics.median(watch.times)

    async def in_process() -> list[float]:
        times: list[float] = []
        for _ in range(ROUNDS):
            watch.answered.clear()
            watch.waiting.clear()
            task = asyncio.create_task(
                engine.handle_message("local", "deploy", "bench", local=True)
            )
            await watch.waiting.wait()
            pending = engine.approvals.pending("bench")[0]
            await engine.handle_approval(
                ApprovalAnswer(
                    approval_id=pending.approval_id,
                    choice=ApprovalChoice.APPROVE,
                    user_id="local",
                    chat_id="bench",
                    local=True,
                )
            )
            await watch.answered.wait()
            await task
            times.append(watch.times[-1])
        return times

    baseline = statistics.median(served.call(in_process(), timeout=60))
    return browser, baseline


def memory(driver: webdriver.Chrome, served: ServedTether) -> tuple[float, float]:
    """Traced bytes held while `n` pages are open, for 1 and for PAGES pages."""
    assert served.web is not None
    web = served.web
    _log_in(driver, served)
    for n in range(30):  # a conversation to show in each snapshot
        driver.execute_script(
            "fetch('/api/message', {method: 'POST', headers: {'content-type': "
            "'application/json', 'x-tether-csrf': state.csrf}, "
            f"body: JSON.stringify({{chat: state.chat, text: 'message {n}'}})}})"
        )
    while served.engine is not None and served.engine.is_busy("web:main"):
        time.sleep(0.02)

    def traced() -> int:
        async def settle() -> None:
            await asyncio.sleep(0.2)

        served.call(settle())
        # Only what the server's side holds: the browser driver in this process
        # allocates too, and is not part of the figure.
        snapshot = tracemalloc.take_snapshot().filter_traces(_SERVER_FILES)
        return sum(stat.size for stat in snapshot.statistics("filename"))

    tracemalloc.start()
    base = traced()
    driver.refresh()
    _wait_pages(web, 1)
    one = traced() - base
    for _ in range(PAGES - 1):
        driver.switch_to.new_window("tab")
        driver.get(served.url + "/")
    _wait_pages(web, PAGES)
    many = traced() - base
    tracemalloc.stop()
    return one, many


_SERVER_FILES = [
    tracemalloc.Filter(True, f"*{name}*")
    for name in ("tether", "uvicorn", "starlette", "wsproto", "h11", "asyncio", "anyio", "ssl")
]


def _wait_pages(web: Any, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(web.hub.clients) < count:
        assert time.monotonic() < deadline, f"{len(web.hub.clients)} of {count} pages connected"
        time.sleep(0.05)


def _quiet() -> None:
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))


def main() -> None:
    _quiet()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        results: dict[str, Any] = {}
        for name, measure in (
            ("first", first_character),
            ("approval", approval_round_trip),
            ("memory", memory),
        ):
            run = root / name
            run.mkdir()
            driver = _browser(run / "profile")
            try:
                with ServedTether(_config(run), scenarios(run / "project")) as served:
                    results[name] = measure(driver, served)
            finally:
                driver.quit()
    first, echo = results["first"]
    browser, direct = results["approval"]
    one, many = results["memory"]
    print(f"web connector, medians of {ROUNDS} rounds (headless Chromium, loopback)")
    print(
        f"  request -> first streamed character: {first:7.1f} ms"
        f"   ({first / echo:.1f}x the message echoed back, {echo:.1f} ms)"
    )
    print(
        f"  approval round trip via the page:    {browser:7.1f} ms"
        f"   ({browser / direct:.1f}x answering in-process, {direct:.2f} ms)"
    )
    print(
        f"  memory with {PAGES} open pages:          {many / 1024:7.0f} KiB"
        f"   ({many / max(one, 1):.1f}x one page, {one / 1024:.0f} KiB;"
        f" {(many - one) / (PAGES - 1) / 1024:.0f} KiB per further page)"
    )


if __name__ == "__main__":
    main()
