"""The chat page in a real browser: Debian Chromium driven by Playwright, against a real server.

What a reviewer does by hand: load the page, read the disclaimer, ask a question, click a marker,
ask a follow-up, type an emergency, leave feedback, and watch that nothing leaves the machine.
A reviewer's probe too: XSS and Markdown-injection payloads typed into the chat, alone and in a
follow-up (so they reach 'Understood as'), must show as text, open no dialog and load nothing;
once with the page's Content-Security-Policy, once with it bypassed (so the rendering alone is
tested), and the policy itself must block what an injection would need while blocking nothing
the page uses. Screenshots land in artifacts/screenshots/ (desktop and a 390-px-wide phone).
And the library: a page opened on `?article=ID` answers from that article, and the picker
switches to another one with a new conversation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from followup_bot.settings import Settings
from support import free_port, with_feedback_file

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
RAT_QUESTION = "Did lamotrigine reduce ketamine self-administration in rats?"
LETTER = "journal.pmed.0030205"  # "Mischievous Odds Ratios", imported by the `library_settings` fixture
LETTER_QUESTION = "Is an odds ratio the same as a relative risk?"
TIMEOUT_MS = 20_000
RECORD_CSP_VIOLATIONS = """
window.__fbCspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__fbCspViolations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sample || ""}`.trim());
});
"""
INJECTIONS = [
    "<script>window.__fbInjected = 'script'; alert('script')</script>",
    "<img src=x onerror=\"window.__fbInjected = 'img'; alert('img')\">",
    "![x](http://example.test/pixel.png)",
    "[click](javascript:alert('link'))",
    "<http://example.test/autolink>",
    "https://example.test/a",
    '<iframe src="http://example.test/frame"></iframe>',
    "<svg onload=\"window.__fbInjected = 'svg'; alert('svg')\"><circle r='1'/></svg>",
]
INJECTED_ELEMENTS = (
    "#fb-chat img[src*='example'], #fb-chat img[src='x'], #fb-chat a[href^='javascript'], "
    "#fb-chat a[href*='example.test'], #fb-chat script, #fb-chat svg[onload], #fb-chat [onerror], "
    "#fb-chat [onload], iframe, img[src*='example.test'], a[href^='javascript']"
)


@pytest.fixture(scope="module")
def browser_settings(session_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return with_feedback_file(session_settings, tmp_path_factory.mktemp("ui-browser"))


@pytest.fixture(scope="module")
def page_url(assistant: Any, browser_settings: Settings) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (make install-browser)")
    from followup_bot.ui import build_app, launch

    app = build_app(assistant, browser_settings)
    url = launch(app, browser_settings, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    app.close()


@pytest.fixture(scope="module")
def library_url(
    page_url: str, library_assistant: Any, library_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The page over a library of two articles: the corpus article (the default) and the PLOS letter."""
    from followup_bot.ui import build_app, launch

    settings = with_feedback_file(library_settings, tmp_path_factory.mktemp("ui-browser-library"))
    app = build_app(library_assistant, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    app.close()


@pytest.fixture(scope="module")
def browser(page_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Session:
    """One browser tab on the chat page, recording every URL it requests."""

    def __init__(self, browser: Any, url: str, width: int = 1280, height: int = 900, **options: Any) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height}, **options)
        self.context.add_init_script(RECORD_CSP_VIOLATIONS)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.failures: dict[str, str] = {}
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", lambda request: self.failures.setdefault(request.url, request.failure or ""))
        self.page.on("dialog", self._dialog)
        self.page.goto(url, wait_until="load")
        for selector in ("#fb-banner", "#fb-chat", "#fb-input textarea", "#fb-sources .fb-panel"):
            self.page.wait_for_selector(selector, state="visible")  # Gradio mounts components progressively

    def ask(self, question: str) -> Any:
        """Type a question, press Enter, and return the final (verified) answer bubble."""
        before = self.page.locator("#fb-chat .fb-final").count()
        self.page.fill("#fb-input textarea", question)
        self.page.press("#fb-input textarea", "Enter")
        self.page.wait_for_function(f"document.querySelectorAll('#fb-chat .fb-final').length > {before}")
        return self.page.locator("#fb-chat .fb-final").last

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def csp_violations(self) -> list[str]:
        return list(self.page.evaluate("window.__fbCspViolations || []"))

    def outside_requests(self) -> list[str]:
        return [
            u
            for u in self.requests
            if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in LOCAL_HOSTS
        ]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser: Any, page_url: str) -> Iterator[Session]:
    tab = Session(browser, page_url)
    yield tab
    tab.close()


def test_the_page_loads_with_the_disclaimer_banner_visible_and_nothing_fetched_from_outside(session: Session) -> None:
    banner = session.page.locator("#fb-banner")
    assert banner.is_visible()
    text = banner.inner_text()
    assert "not medical advice" in text and "primary literature" in text and "emergency" in text.lower()
    assert session.page.locator("#fb-chat").is_visible() and session.page.locator(".fb-suggestion").count() >= 1
    assert session.outside_requests() == []
    assert session.csp_violations() == []  # the policy blocks nothing the page itself uses


def test_an_answer_streams_in_with_chips_that_reveal_the_highlighted_quote(session: Session) -> None:
    page = session.page
    page.fill("#fb-input textarea", RAT_QUESTION)
    page.click("#fb-send")
    page.wait_for_selector("#fb-chat .fb-draft, #fb-chat .fb-final")  # the draft shows first (it may be brief)
    answer = page.locator("#fb-chat .fb-final").last
    answer.wait_for()
    assert "fb-draft" not in (answer.get_attribute("class") or "")
    assert answer.locator(".fb-disclaimer").inner_text().startswith("For healthcare professionals")
    chip = answer.locator("a.fb-chip").first
    target = chip.get_attribute("href").lstrip("#")
    chip.click()
    passage = page.locator(f"#{target}")
    passage.wait_for(state="visible")
    page.wait_for_function(f"document.getElementById('{target}').classList.contains('fb-active')")
    assert passage.locator("mark").first.is_visible()
    quote = passage.locator("mark").first.inner_text().strip()
    assert quote and quote.split()[0] in passage.locator(".fb-passage-text").inner_text()
    card = passage.inner_text()
    assert "Identification confidence" in card and "Evidence level" in card and "Study type" in card
    assert passage.locator(".fb-badge").count() >= 1
    assert passage.locator("a.fb-doi").count() == 1 or passage.locator("a.fb-title").count() == 1
    assert session.outside_requests() == []


def test_a_follow_up_is_answered_in_the_context_of_the_conversation(session: Session) -> None:
    session.ask(RAT_QUESTION)
    follow = session.ask("What about in humans?")
    assert "Understood as:" in follow.inner_text()
    assert session.page.locator("#fb-chat .fb-final").count() == 2
    assert session.page.locator("#fb-turn-2[open]").count() == 1  # the evidence panel follows the conversation


def test_an_emergency_message_gets_the_emergency_callout(session: Session) -> None:
    reply = session.ask("My friend took too much ketamine and is not breathing")
    callout = reply.locator(".fb-callout-emergency")
    assert callout.is_visible() and callout.get_attribute("role") == "alert"
    assert "emergency" in callout.inner_text().lower()
    color = callout.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert color == "rgb(220, 38, 38)"  # red: it must stand out from ordinary answers


def test_the_audience_selector_changes_the_framing_of_answers(session: Session) -> None:
    page = session.page
    page.get_by_label("Patient or caregiver").check()
    page.wait_for_function(
        "document.querySelector('.fb-audience-note').innerText.includes('not medical advice for you')"
    )
    reply = session.ask(RAT_QUESTION)
    assert "not medical advice for you" in reply.locator(".fb-disclaimer").inner_text()


def test_feedback_buttons_append_a_line_to_the_feedback_file(session: Session, browser_settings: Settings) -> None:
    path = Path(browser_settings.ui.feedback_path)
    before = len(path.read_text().splitlines()) if path.exists() else 0
    session.ask(RAT_QUESTION)
    session.page.fill("#fb-comment textarea", "clear, with sources")
    session.page.click("#fb-helpful")
    session.page.wait_for_selector(".fb-status-ok")
    lines = path.read_text().splitlines()
    assert len(lines) == before + 1
    record = json.loads(lines[-1])
    assert (
        record["rating"] == "helpful"
        and record["comment"] == "clear, with sources"
        and record["question"] == RAT_QUESTION
    )


def test_a_suggested_question_clear_chat_and_export_work(session: Session) -> None:
    page = session.page
    suggestion = page.locator(".fb-suggestion").first
    question = suggestion.inner_text()
    suggestion.click()
    page.wait_for_selector("#fb-chat .fb-final")
    assert question in page.locator("#fb-chat").inner_text()
    with page.expect_download() as download:
        page.click("#fb-export")
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"## 1. {question}" in exported
    page.click("#fb-clear")
    page.wait_for_function("document.querySelectorAll('#fb-chat .fb-final').length === 0")
    assert "No answers yet" in page.locator("#fb-sources").inner_text()


def test_screenshots_on_desktop_and_phone_widths_with_no_request_leaving_the_machine(
    browser: Any, page_url: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, width, height in (("chat.png", 1280, 900), ("chat-mobile.png", 390, 844)):
        tab = Session(browser, page_url, width=width, height=height)
        try:
            tab.ask(RAT_QUESTION)
            reply = tab.ask("What about in humans?")
            reply.locator("a.fb-chip").first.click()
            tab.page.wait_for_selector(".fb-passage.fb-active")
            tab.page.wait_for_timeout(400)  # let the smooth scroll settle
            assert tab.page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
            tab.page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
            if width < 600:
                tab.page.screenshot(path=str(SCREENSHOTS / "chat-mobile-evidence.png"))  # what the tap on a chip shows
            assert tab.outside_requests() == [] and tab.csp_violations() == []
        finally:
            tab.close()


@pytest.mark.parametrize("policy", ["with the page's CSP", "with the CSP bypassed"])
def test_injected_html_and_markdown_show_as_text_open_no_dialog_and_load_nothing(
    browser: Any, page_url: str, policy: str
) -> None:
    tab = Session(browser, page_url, bypass_csp=policy != "with the page's CSP")
    try:
        page = tab.page
        payloads = "\n\n".join(INJECTIONS)
        tab.ask(payloads)
        tab.ask(RAT_QUESTION)
        follow = tab.ask(f"What about in humans?\n\n{payloads}")
        page.wait_for_timeout(500)  # give a stray image or onerror handler time to fire
        injected = page.eval_on_selector_all(INJECTED_ELEMENTS, "els => els.map(e => e.outerHTML.slice(0, 80))")
        assert injected == []
        assert page.evaluate("window.__fbInjected === undefined")
        assert tab.dialogs == [] and tab.outside_requests() == [] and tab.csp_violations() == []
        understood = follow.locator(".fb-understood").inner_text()
        assert "![x](http://example.test/pixel.png)" in understood and "<svg onload=" in understood
        assert "\n" in understood  # the user's blank lines are line breaks, not Markdown paragraphs
        shown = page.locator("#fb-chat .fb-user").first.inner_text()
        assert all(p in shown for p in ("<script>", "<img src=x onerror=", "[click](javascript:", "<iframe src="))
        with page.expect_download() as download:
            page.click("#fb-export")
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        assert "`![x](http://example.test/pixel.png)`" in exported and "<script>" not in exported
    finally:
        tab.close()


def test_the_content_security_policy_blocks_what_an_injection_would_need(session: Session) -> None:
    """Were the escaping and Gradio's sanitiser both bypassed, the policy still stops the payload."""
    page = session.page
    session.ask(RAT_QUESTION)
    page.evaluate(
        """() => {
            const bubble = document.querySelector('#fb-chat .fb-final');
            bubble.insertAdjacentHTML('beforeend',
                '<img src="http://example.test/csp.png"><img src="x" onerror="window.__fbInjected = 1">');
            const script = document.createElement('script');
            script.textContent = 'window.__fbInjected = 2';
            bubble.appendChild(script);
        }"""
    )
    page.wait_for_function("window.__fbCspViolations.length >= 3")
    violations = " | ".join(session.csp_violations())
    assert "img-src http://example.test/csp.png" in violations
    assert "script-src-attr" in violations and "script-src-elem" in violations
    assert page.evaluate("window.__fbInjected === undefined") and session.dialogs == []
    outside = session.outside_requests()  # Chromium reports the blocked image as a request that failed at once
    assert outside == ["http://example.test/csp.png"]
    assert session.failures[outside[0]] == "csp"  # Playwright's name for net::ERR_BLOCKED_BY_CSP


def _plain(text: str) -> str:
    return " ".join(text.split())


def test_an_article_opened_from_the_url_is_answered_from_its_own_passages_until_the_picker_switches_article(
    browser: Any, library_url: str, library_assistant: Any
) -> None:
    from playwright.sync_api import expect

    letter, default = library_assistant.article(LETTER), library_assistant.article()
    tab = Session(browser, f"{library_url}?article={LETTER}")
    try:
        page = tab.page
        expect(page.locator("#fb-header-wrap .fb-h1")).to_have_text(_plain(letter.title), timeout=TIMEOUT_MS)
        expect(page.locator("#fb-article input")).to_have_value(re.compile(re.escape(LETTER)))
        assert page.locator("#fb-article-notice .fb-article-notice").count() == 0
        expect(page.locator("#fb-sources")).to_contain_text(
            f"Documents the assistant can quote ({len(letter.records)})"
        )

        reply = tab.ask(LETTER_QUESTION)
        assert reply.locator("a.fb-chip").count() >= 1 and reply.locator(".fb-disclaimer").is_visible()
        cited = page.locator("#fb-turn-1 .fb-passage:not(.fb-related-card) .fb-passage-text").all_inner_texts()
        passages = [_plain(c.text) for c in letter.chunks.values()]
        assert cited and all(any(_plain(text) in p for p in passages) for text in cited)  # the letter's own passages
        assert "odds" in " ".join(cited).lower()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "chat-article.png"), full_page=True)

        page.click("#fb-article input")
        page.fill("#fb-article input", "")
        page.locator("#fb-article input").press_sequentially(default.id[:10])  # the picker filters as one types
        expect(page.get_by_role("option", name=re.compile(re.escape(LETTER)))).to_have_count(0)
        option = page.get_by_role("option", name=re.compile(re.escape(default.id)))
        expect(option).to_have_count(1)
        page.screenshot(path=str(SCREENSHOTS / "chat-article-picker.png"))
        option.click()
        expect(page.locator("#fb-header-wrap .fb-h1")).to_have_text(_plain(default.title), timeout=TIMEOUT_MS)
        expect(page.locator("#fb-chat .fb-final")).to_have_count(0)  # a new conversation about the new article
        expect(page.locator("#fb-sources")).to_contain_text("No answers yet")
        expect(page.locator("#fb-sources")).to_contain_text(
            f"Documents the assistant can quote ({len(default.records)})"
        )
        expect(page.locator(".fb-suggestion").first).to_be_visible()
        page.wait_for_function(f"new URL(location.href).searchParams.get('article') === {json.dumps(default.id)}")
        answer = tab.ask(RAT_QUESTION)  # later answers are about the new article
        assert "lamotrigine" in answer.inner_text().lower()
        assert tab.outside_requests() == [] and tab.csp_violations() == [] and tab.dialogs == []
    finally:
        tab.close()


def test_an_unknown_article_in_the_url_opens_the_default_one_with_a_notice_shown_as_text(
    browser: Any, library_url: str, library_assistant: Any
) -> None:
    from urllib.parse import quote

    from playwright.sync_api import expect

    payload = '<img src=x onerror="window.__fbInjected = 1">'
    tab = Session(browser, f"{library_url}?article={quote(payload)}")
    try:
        notice = tab.page.locator("#fb-article-notice .fb-article-notice")
        expect(notice).to_be_visible(timeout=TIMEOUT_MS)
        assert payload in notice.inner_text() and library_assistant.article().title in notice.inner_text()
        expect(tab.page.locator("#fb-header-wrap .fb-h1")).to_have_text(_plain(library_assistant.article().title))
        assert tab.page.evaluate("window.__fbInjected === undefined") and tab.page.locator("img[src='x']").count() == 0
        assert tab.outside_requests() == [] and tab.csp_violations() == [] and tab.dialogs == []
    finally:
        tab.close()
