"""The page in a real browser: headless Chromium from the system, driven by Selenium.

Each test gets its own Tether (a new port, so a fresh origin: no cookie or
storage carried over); the browser is started once for the module. The flows
that reach the agent (questions, a rejection's reason, a cancel) run against
the real Claude Code adapter driving the fake Claude Code CLI; the others use
the in-process scripted agent, whose steps give exact timing.
"""

from __future__ import annotations

import http.server
import shutil
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agents.support import FakeLog
from tests.connectors.web.support import STREAM_PIECES, ServedTether
from tether.core.config import TetherConfig
from tether.core.safety.audit import read_audit_log

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT = 10.0

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="needs the chromium and chromium-driver packages (.ci/run installs them)",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
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
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


FAKE_CLAUDE = Path(__file__).parents[2] / "agents" / "fake_claude.py"


@pytest.fixture
def claude(
    web_config: TetherConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ServedTether, FakeLog]]:
    """A Tether whose agent is Claude Code: the real adapter and SDK, the fake CLI."""
    home = tmp_path / "fake-claude"
    home.mkdir()
    monkeypatch.setenv("FAKE_CLAUDE_DIR", str(home))
    launcher = tmp_path / "bin" / "claude"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLAUDE}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    config = web_config.model_copy(update={"claude_cli_path": launcher})
    with ServedTether(config, None) as tether:
        yield tether, FakeLog(home / "log.jsonl")


def _until(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition(driver)
        except Exception:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out; page text:\n{driver.find_element(By.TAG_NAME, 'body').text}"
            )
        time.sleep(0.03)


def _visible(selector: str) -> Callable[[WebDriver], WebElement | None]:
    def find(driver: WebDriver) -> WebElement | None:
        for element in driver.find_elements(By.CSS_SELECTOR, selector):
            if element.is_displayed():
                return element
        return None

    return find


def _log_in(driver: WebDriver, served: ServedTether) -> None:
    driver.get(f"{served.url}/#token={served.token}")
    _until(driver, _visible("#composer-input"))
    # The event socket is open: what the server announces from now on reaches the page.
    _until(
        driver,
        lambda d: d.execute_script(
            "return state.socket !== null && state.socket.readyState === WebSocket.OPEN"
            " && document.querySelector('#status').textContent === ''"
        ),
    )


def _send(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "composer-input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def _outcome(driver: WebDriver) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, ".approval .outcome").text)


def _last_reply(driver: WebDriver) -> str:
    replies = driver.find_elements(By.CSS_SELECTOR, ".entry.reply .text")
    return replies[-1].text if replies else ""


def test_log_in_with_the_link_and_watch_a_reply_stream_in(
    browser: WebDriver, served: ServedTether
) -> None:
    _log_in(browser, served)
    assert "token" not in browser.current_url  # the token left the address bar
    # The page records every text the reply shows, as it shows it.
    browser.execute_script(
        """
        window.seen = [];
        new MutationObserver(() => {
          const replies = document.querySelectorAll(".entry.reply .text");
          const text = replies.length ? replies[replies.length - 1].textContent : "";
          if (text && window.seen[window.seen.length - 1] !== text) window.seen.push(text);
        }).observe(document.getElementById("conversation"),
                   {childList: true, subtree: true, characterData: true});
        """
    )
    _send(browser, "stream please")
    final = "".join(STREAM_PIECES)
    _until(browser, lambda d: _last_reply(d) == final.strip())
    seen = browser.execute_script("return window.seen")
    assert seen[-1] == final
    partial = seen[:-1]
    assert len(partial) >= 2, f"the reply arrived at once: {seen}"
    assert all(final.startswith(text) for text in partial), seen
    _until(browser, lambda d: not d.find_element(By.ID, "cancel").is_displayed())


def test_a_wrong_token_is_refused_then_the_address_is_locked_out(
    browser: WebDriver, served: ServedTether
) -> None:
    browser.get(served.url + "/")
    _until(browser, _visible("#login-token"))
    # Both attempts run in the page, one right after the other: the first lock
    # lasts a second, longer than a loaded machine may take between two steps.
    errors = browser.execute_async_script(
        """
        const [token, done] = [arguments[0], arguments[arguments.length - 1]];
        const field = document.getElementById("login-token");
        const error = document.getElementById("login-error");
        const form = document.getElementById("login-form");
        const seen = [];
        const watch = new MutationObserver(() => {
          seen.push(error.textContent);
          if (seen.length === 1) { field.value = token; form.requestSubmit(); }
          if (seen.length === 2) { watch.disconnect(); done(seen); }
        });
        watch.observe(error, {childList: true, characterData: true, subtree: true});
        field.value = "not-the-token";
        form.requestSubmit();
        """,
        served.token,
    )
    assert errors[0] == "wrong access token"
    assert errors[1].startswith("too many failed logins")
    assert not browser.find_element(By.ID, "app").is_displayed()
    kinds = {e["event_type"] for e in read_audit_log(served.config.audit_log_path)}
    assert {"web_login_failed", "web_login_locked"} <= kinds


def test_approve_a_write_whose_preview_shows_its_content(
    browser: WebDriver, served: ServedTether
) -> None:
    _log_in(browser, served)
    _send(browser, "write the shopping list")
    card = _until(browser, _visible(".approval:not(.settled)"))
    assert card.find_element(By.CSS_SELECTOR, ".tool").text == "Write"
    assert "shopping list: milk, eggs, tea" in card.find_element(By.CSS_SELECTOR, ".detail").text
    assert "notes.txt" in card.find_element(By.CSS_SELECTOR, ".block.title").text
    assert "Why:" in card.find_element(By.CSS_SELECTOR, ".block.why").text
    card.find_element(By.CSS_SELECTOR, ".approve").click()
    _until(
        browser, lambda d: "Approved" in d.find_element(By.CSS_SELECTOR, ".approval .outcome").text
    )
    _until(browser, lambda d: "[Write ran]" in _last_reply(d))
    decision = served.agent.calls[-1].decisions[-1][1]
    assert decision.allowed
    # The decision is in the audit view, and the exchange in the session view.
    browser.find_element(By.ID, "audit-button").click()
    panel = _until(browser, _visible("#panel"))
    _until(browser, lambda d: "tool_attempt" in panel.text and "notes.txt" in panel.text)
    browser.find_element(By.ID, "panel-close").click()
    browser.find_element(By.ID, "sessions-button").click()
    _until(browser, lambda d: "write the shopping list" in d.find_element(By.ID, "panel").text)
    assert "current" in browser.find_element(By.ID, "sessions-table").text
    # A new conversation; the earlier session stays listed and readable.
    browser.find_element(By.CSS_SELECTOR, ".new-conversation").click()
    _until(
        browser,
        lambda d: "Started a new conversation" in d.find_element(By.ID, "conversation").text,
    )
    browser.find_element(By.ID, "sessions-button").click()
    _until(browser, lambda d: "ended" in d.find_element(By.ID, "sessions-table").text)
    browser.find_element(By.CSS_SELECTOR, "#sessions-table .ended .session-row").click()
    _until(browser, lambda d: "write the shopping list" in d.find_element(By.ID, "exchanges").text)
    # Another chat of this browser: its own conversation, its own session.
    browser.find_element(By.CSS_SELECTOR, ".new-chat").send_keys("phone")
    browser.find_element(By.CSS_SELECTOR, ".open-chat").click()
    _until(browser, lambda d: d.find_element(By.ID, "chat-name").text == "chat: phone")
    _until(browser, lambda d: d.find_element(By.ID, "conversation").text == "")
    browser.execute_script("localStorage.clear()")


def test_a_reload_mid_request_shows_the_conversation_and_the_pending_approval(
    browser: WebDriver, served: ServedTether
) -> None:
    _log_in(browser, served)
    _send(browser, "write after the reload")
    first = _until(browser, _visible(".approval:not(.settled)"))
    approval_id = first.get_attribute("data-id")
    browser.refresh()
    card = _until(browser, _visible(f'.approval[data-id="{approval_id}"]:not(.settled)'))
    texts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".entry.user")]
    assert texts == ["write after the reload"]
    assert "Writing the notes." in _last_reply(browser)
    assert browser.find_element(By.ID, "cancel").is_displayed()
    card.find_element(By.CSS_SELECTOR, ".approve").click()
    _until(browser, lambda d: "[Write ran]" in _last_reply(d))


def test_a_phone_sized_screen_has_no_horizontal_scroll(
    browser: WebDriver, served: ServedTether, tmp_path: Path
) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        _log_in(browser, served)
        _send(browser, "unbroken " + "x" * 300 + " and /a/very/long/path/" * 10)
        _until(browser, lambda d: "You said" in _last_reply(d))
        _send(browser, "write it")
        _until(browser, _visible(".approval:not(.settled)"))
        browser.find_element(By.ID, "commands-button").click()
        _until(browser, _visible("#command-menu button[data-command='status']"))
        width = browser.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        shot = tmp_path / "phone.png"
        assert browser.save_screenshot(str(shot))
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">I", png[16:20])[0] == 360
        assert width[0] <= width[1], f"page is {width[0]} px wide in a {width[1]} px screen"
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


_EVIL_PAGE = """<!doctype html><title>cute cats</title><script>
const target = "TARGET";
window.outcome = {};
fetch(target + "/api/message", {
  method: "POST", credentials: "include", mode: "no-cors",
  headers: {"content-type": "text/plain"},
  body: JSON.stringify({chat: "main", text: "cross-site fetch"}),
}).then(() => { outcome.post = "sent"; }, () => { outcome.post = "failed"; });
const socket = new WebSocket(target.replace("http", "ws") + "/api/events?chat=main&csrf=x");
socket.onopen = () => { outcome.socket = "open"; };
socket.onerror = () => { outcome.socket = "refused"; };
</script>
<form id="f" method="post" action="TARGET/api/message" enctype="text/plain">
<input name='{"chat": "main", "text": "cross-site form", "x": "' value='"}'></form>
"""


@pytest.fixture
def evil_site(served: ServedTether) -> Iterator[str]:
    """Another origin on the same machine (same site: the SameSite cookie is sent along)."""
    page = _EVIL_PAGE.replace("TARGET", served.url).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_cross_site_page_can_neither_post_nor_listen(
    browser: WebDriver, served: ServedTether, evil_site: str
) -> None:
    _log_in(browser, served)  # the victim is logged in: the cookie exists
    browser.get(evil_site)
    _until(browser, lambda d: d.execute_script("return outcome.post && outcome.socket"))
    assert browser.execute_script("return outcome.socket") == "refused"
    browser.execute_script("document.getElementById('f').submit()")
    _until(
        browser, lambda d: "cross-site" in d.page_source or d.current_url.endswith("/api/message")
    )
    assert "cross-site request refused" in browser.page_source
    time.sleep(0.2)
    assert all("cross-site" not in call.prompt for call in served.agent.calls)
    refused = [
        e
        for e in read_audit_log(served.config.audit_log_path)
        if e["event_type"] == "web_request_refused"
    ]
    assert {e["path"] for e in refused} >= {"/api/message", "/api/events"}


def test_the_page_registers_its_service_worker_and_manifest(
    browser: WebDriver, served: ServedTether
) -> None:
    browser.get_log("browser")  # what earlier pages logged
    _log_in(browser, served)
    scope = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        navigator.serviceWorker.ready.then((r) => done(r.scope), () => done(null));
        """
    )
    assert scope == served.url + "/"
    # A request answered, the page reloaded (served by the worker): the cache holds the
    # shell and nothing else, never the conversation or an API answer.
    _send(browser, "hello there")
    _until(browser, lambda d: "You said: hello there" in _last_reply(d))
    browser.refresh()
    _until(browser, lambda d: "You said: hello there" in _last_reply(d))
    cached = browser.execute_async_script(
        """
        const done = arguments[0];
        (async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
          }
          return urls;
        })().then(done, (error) => done([String(error)]));
        """
    )
    shell = {"/", "/app.js", "/app.css", "/manifest.webmanifest", "/icon.svg"}
    shell |= {"/icon-192.png", "/icon-512.png"}
    assert {url.removeprefix(served.url) for url in cached} == shell
    manifest = browser.find_element(By.CSS_SELECTOR, "link[rel=manifest]").get_attribute("href")
    assert manifest.endswith("/manifest.webmanifest")
    # The strict policy costs the page nothing: no script or style of its own is refused.
    refused = [
        e["message"] for e in browser.get_log("browser") if "Content Security" in e["message"]
    ]
    assert refused == []


def test_answer_the_agent_s_questions_on_the_page(
    browser: WebDriver, claude: tuple[ServedTether, FakeLog]
) -> None:
    """Claude Code's AskUserQuestion: options as buttons, several picked, then Done; the
    answers reach Claude Code as the tool's updated input."""
    served, fake = claude
    _log_in(browser, served)
    _send(browser, "ask about tools")
    card = _until(browser, _visible(".approval[data-kind=questions]:not(.settled)"))
    first, second = card.find_elements(By.CSS_SELECTOR, ".question")
    assert "Which package manager should I use?" in first.text
    assert "Fast, with a lock file" in first.text  # the option's description, as elsewhere
    first.find_element(By.CSS_SELECTOR, ".option[data-option='0']").click()
    _until(browser, lambda d: "answered" in (first.get_attribute("class") or ""))
    for option in ("0", "2"):
        second.find_element(By.CSS_SELECTOR, f".option[data-option='{option}']").click()
        _until(
            browser,
            lambda d, o=option: (
                "picked"
                in (
                    second.find_element(
                        By.CSS_SELECTOR, f".option[data-option='{o}']"
                    ).get_attribute("class")
                    or ""
                )
            ),
        )
    second.find_element(By.CSS_SELECTOR, ".done").click()
    _until(browser, lambda d: "Answered" in card.find_element(By.CSS_SELECTOR, ".outcome").text)
    _until(browser, lambda d: "User has answered your questions" in _last_reply(d))
    assert '"Which checks should run in CI?"="tests, lint"' in _last_reply(browser)
    (ran,) = [e for e in fake.entries("tool_ran") if e["tool"] == "AskUserQuestion"]
    assert ran["input"]["answers"] == {
        "Which package manager should I use?": "uv",
        "Which checks should run in CI?": "tests, lint",
    }


def test_a_plan_is_approved_on_the_page_in_the_mode_chosen(
    browser: WebDriver, served: ServedTether
) -> None:
    _log_in(browser, served)
    _send(browser, "plan the greeting")
    plan = _until(browser, _visible(".approval[data-kind=plan]:not(.settled)"))
    # The plan's Markdown is rendered (as Telegram renders it), as elements, never as HTML.
    assert plan.find_element(By.CSS_SELECTOR, ".plan h4").text == "Plan"
    assert plan.find_element(By.CSS_SELECTOR, ".plan ol li strong").text == "src/app.py"
    assert plan.find_element(By.CSS_SELECTOR, ".plan ol li code").text == "greet(name)"
    assert plan.find_element(By.CSS_SELECTOR, ".plan pre").text == "<script>alert(1)</script>"
    assert browser.find_elements(By.CSS_SELECTOR, ".plan script") == []
    plan.find_element(By.CSS_SELECTOR, ".approve-edit").click()
    _until(browser, lambda d: "edit mode" in plan.find_element(By.CSS_SELECTOR, ".outcome").text)
    _until(browser, lambda d: served.agent.calls and served.agent.calls[-1].decisions)
    assert served.agent.calls[-1].decisions[-1][1].next_mode == "edit"


def test_with_claude_code_a_rejection_s_reason_reaches_it_and_cancel_stops_it(
    browser: WebDriver, claude: tuple[ServedTether, FakeLog]
) -> None:
    served, fake = claude
    _log_in(browser, served)
    _send(browser, "slow-tool")
    card = _until(browser, _visible(".approval:not(.settled)"))
    assert "make deploy" in card.find_element(By.CSS_SELECTOR, ".detail").text
    card.find_element(By.CSS_SELECTOR, ".reason").send_keys("not on a Friday")
    card.find_element(By.CSS_SELECTOR, ".reject").click()
    _until(browser, lambda d: "Deployed." in _last_reply(d))
    (asked,) = [p for p in fake.permissions() if p["tool"] == "Bash"]
    assert not asked["allowed"] and "not on a Friday" in asked["reason"]
    assert not fake.entries("tool_ran")

    _send(browser, "slow job")
    cancel = _until(browser, _visible("#cancel"))
    _until(browser, lambda d: "Working on it." in _last_reply(d))
    cancel.click()
    _until(browser, lambda d: not d.find_element(By.ID, "cancel").is_displayed())
    _until(browser, lambda d: fake.entries("interrupted"))
    assert "Finished." not in _last_reply(browser)


# The notifications the page's worker shows, as [title, body]; [] after 15 s (under a
# loaded CI run the push and the worker take a while). A script that ends with this
# definition may call it: function declarations are hoisted.
_SHOWN_NOTIFICATIONS = """
async function shownNotifications(registration) {
  for (let i = 0; i < 600; i++) {
    const shown = await registration.getNotifications();
    if (shown.length) return shown.map((n) => [n.title, n.body]);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return [];
}
"""


def _log_in_allowing_notifications(driver: WebDriver, served: ServedTether) -> str:
    """Log in, allow notifications and wait for the page's worker; the page's window handle."""
    _log_in(driver, served)
    driver.execute_cdp_cmd(
        "Browser.grantPermissions", {"permissions": ["notifications"], "origin": served.url}
    )
    driver.execute_async_script(
        "const done = arguments[0]; navigator.serviceWorker.ready.then(() => done(true));"
    )
    # The tests bring another tab to the front, as a phone brings another app. Headless
    # Chromium does not always mark the covered page hidden or unfocused in time (both
    # tests once saw the approval with the page "visible"), so the page is told so: what
    # is tested is what the page does when hidden, not the browser's occlusion tracking.
    driver.execute_script(
        'Object.defineProperty(document, "visibilityState", {get: () => "hidden"});'
        "document.hasFocus = () => false;"
    )
    return str(driver.current_window_handle)


def test_an_approval_notifies_a_hidden_page_and_always_offers_its_scopes(
    browser: WebDriver, served: ServedTether
) -> None:
    page = _log_in_allowing_notifications(browser, served)
    # Another tab of the same origin comes to the front: the page is hidden, as on a phone
    # with another app open. That tab sends the request, the hidden page gets the approval.
    browser.switch_to.new_window("tab")
    try:
        browser.get(served.url + "/manifest.webmanifest")
        titles = browser.execute_async_script(
            """
            const done = arguments[0];
            (async () => {
              const state = await (await fetch("/api/state")).json();
              await fetch("/api/message", {method: "POST", body: JSON.stringify(
                {chat: "main", text: "deploy the site"}),
                headers: {"content-type": "application/json", "x-tether-csrf": state.csrf}});
              const registration = await navigator.serviceWorker.getRegistration("/");
              return await shownNotifications(registration);
            })().then(done, (error) => done(String(error)));
            """
            + _SHOWN_NOTIFICATIONS
        )
    finally:
        browser.close()
        browser.switch_to.window(page)
    assert titles and titles[0][0] == "Tether: approve Bash?", titles
    assert "make deploy" in titles[0][1]

    card = _until(browser, _visible(".approval:not(.settled)"))
    card.find_element(By.CSS_SELECTOR, ".always").click()
    scope = _until(browser, _visible(".approval .scope-offer .scope-chat"))
    assert "make deploy" in browser.find_element(By.CSS_SELECTOR, ".scope-offer").text
    scope.click()
    _until(
        browser, lambda d: "Learned" in d.find_element(By.CSS_SELECTOR, ".approval .learned").text
    )
    assert served.engine is not None
    assert served.engine.gatekeeper.learned.rules("web:main")


def test_an_approval_missed_while_disconnected_is_announced_once_on_reconnect(
    browser: WebDriver, served: ServedTether
) -> None:
    page = _log_in_allowing_notifications(browser, served)
    # The page loses its socket (a phone asleep) and stays down until the other tab, which
    # watches the chat on its own socket, says the approval has been asked.
    browser.execute_async_script(
        """
        const done = arguments[0];
        navigator.serviceWorker.ready.then(() => {
          const socket = state.socket;
          state.socket = null;
          socket.close();
          new BroadcastChannel("wake").onmessage = () => connect();
          done(true);
        });
        """
    )
    browser.switch_to.new_window("tab")
    try:
        browser.get(served.url + "/manifest.webmanifest")
        titles = browser.execute_async_script(
            """
            const done = arguments[0];
            (async () => {
              const state = await (await fetch("/api/state")).json();
              const asked = new Promise((resolve) => {
                const socket = new WebSocket(
                  `ws://${location.host}/api/events?chat=main&csrf=${state.csrf}`);
                socket.onmessage = (message) => {
                  if (JSON.parse(message.data).type === "approval") resolve();
                };
                socket.onopen = () => fetch("/api/message", {method: "POST", body: JSON.stringify(
                  {chat: "main", text: "deploy the site"}),
                  headers: {"content-type": "application/json", "x-tether-csrf": state.csrf}});
              });
              await asked;
              const registration = await navigator.serviceWorker.getRegistration("/");
              if ((await registration.getNotifications()).length) return ["too early"];
              new BroadcastChannel("wake").postMessage("up");
              return await shownNotifications(registration);
            })().then(done, (error) => done(String(error)));
            """
            + _SHOWN_NOTIFICATIONS
        )
    finally:
        browser.close()
        browser.switch_to.window(page)
    assert titles and titles[0][0] == "Tether: approve Bash?", titles
    # Reconnecting again announces nothing new: the page has already told of this one.
    announced = browser.execute_async_script(
        """
        const done = arguments[0];
        const shown = [];
        const original = notify;
        notify = (approval) => { shown.push(approval.approval_id); original(approval); };
        const socket = state.socket;
        state.socket = null;
        socket.close();
        connect();
        const wait = () => state.socket.readyState === WebSocket.OPEN
          ? setTimeout(() => done([shown, state.notified.size]), 300) : setTimeout(wait, 25);
        wait();
        """
    )
    assert announced == [[], 1]
    assert _until(browser, _visible(".approval:not(.settled)"))


def test_parallel_asks_are_approved_all_at_once_each_on_its_own(
    browser: WebDriver, served: ServedTether
) -> None:
    _log_in(browser, served)
    _send(browser, "three notes at once")
    bar = _until(browser, _visible("#batch"))
    _until(browser, lambda d: "3 requests wait for you" in bar.text)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".approval:not(.settled)")) == 3
    browser.find_element(By.ID, "approve-all").click()
    _until(browser, lambda d: "Three notes." in _last_reply(d))
    assert not bar.is_displayed()
    decisions = served.agent.calls[-1].decisions
    assert [d.allowed for _, d in decisions] == [True, True, True]
    approvals = [
        e for e in read_audit_log(served.config.audit_log_path) if e["event_type"] == "approval"
    ]
    assert [e["approved"] for e in approvals] == [True, True, True]
