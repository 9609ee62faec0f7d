"""The chat page's HTML and Markdown, checked on hand-made Answers (no model, no server).

These are the visible promises of the page: chips point at their passage, the disclaimer closes
every message, safety replies stand out, a corpus summary is never presented as the paper's words,
and nothing a document, model or user writes can inject markup or load a resource.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from followup_bot.models import Answer, Chunk, Citation, DocumentRecord, Passage, Verification
from followup_bot.ui import render
from followup_bot.ui.render import Exchange

CLINICIAN = "For healthcare professionals: verify against the primary literature."
PATIENT = "This is general information, not medical advice for you."

RECORDS = {
    "article": DocumentRecord(
        id="article",
        path="article.md",
        kind="article",
        title="Can aspirin prevent migraine?",
        authors=["Editorial Board"],
        journal="Example Answers",
        year=2024,
        study_type="answer article",
        evidence_level="narrative summary",
        identification_confidence="high",
        content_kind="the article's own text",
    ),
    "ref1": DocumentRecord(
        id="ref1",
        path="sources/ref1.md",
        kind="source",
        reference_number=1,
        title="Aspirin for migraine prophylaxis in mice",
        authors=["Ann Smith", "Bo Jones", "Cy Lee", "Di Park"],
        journal="Journal of Examples",
        year=2019,
        doi="10.1000/xyz123",
        url="https://doi.org/10.1000/xyz123",
        study_type="preclinical animal study (mice)",
        evidence_level="preclinical",
        identification_confidence="high",
        content_kind="source card: a summary of the abstract written for this corpus, not the publication's own text",
    ),
    "ref2": DocumentRecord(
        id="ref2",
        path="sources/ref2.md",
        kind="source",
        reference_number=2,
        title="A single case",
        authors=["Eve Wu"],
        journal="Case Reports",
        year=2016,
        url="javascript:alert(1)",
        study_type="case report",
        evidence_level="case report",
        identification_confidence="low",
        content_kind="source card: bibliographic record only",
    ),
}

CHUNK_TEXT = "Mice were studied.  Aspirin reduced\nattack frequency in mice. The authors call for trials."


def cite(
    marker: str = "[1]",
    source_id: str = "ref1",
    quote: str = "Aspirin reduced attack frequency in mice.",
    chunk_text: str = CHUNK_TEXT,
    section: str = "Results",
) -> Citation:
    return Citation(
        marker=marker,
        source_id=source_id,
        chunk_id=f"c-{marker}",
        quote=quote,
        start=0,
        end=len(quote),
        title=RECORDS.get(source_id, RECORDS["ref1"]).title,
        evidence_level="preclinical",
        section=section,
        chunk_text=chunk_text,
    )


def answered(text: str = "Aspirin reduced attacks in mice [1]. A case was reported [2].", **kw: object) -> Answer:
    base: dict = {
        "answer": text,
        "citations": [cite(), cite("[2]", "ref2", "A patient improved.", "A patient improved.", "Case")],
        "standalone_question": "Does aspirin prevent migraine?",
        "disclaimer": CLINICIAN,
        "verification": Verification(sentences=2, supported=2),
        "timings_ms": {"total": 42.0},
    }
    base.update(kw)
    return Answer(**base)


def test_markers_become_chips_that_link_to_their_passage_card() -> None:
    html = render.render_answer(answered(), "Does aspirin prevent migraine?", 3, RECORDS)
    chips = re.findall(r'<a class="fb-chip" href="#([^"]+)"', html)
    assert chips == ["fb-src-3-1", "fb-src-3-2"]
    panel = render.render_source_panel(
        [Exchange("q1", answered()), Exchange("q2", answered()), Exchange("q3", answered())], RECORDS
    )
    for target in chips:
        assert f'id="{target}"' in panel
    assert "[1]" in re.sub(r"<[^>]+>", "", html)  # brackets stay in the text, for copying and screen readers
    assert '<span class="fb-sr">[</span>1<span class="fb-sr">]</span>' in html


def test_letter_and_article_markers_get_safe_unique_ids() -> None:
    assert render.passage_id(2, "[1b]") == "fb-src-2-1b"
    assert render.passage_id(1, "[A1]") == "fb-src-1-A1"
    assert render.passage_id(1, "[my doc-b]") == "fb-src-1-my-doc-b"
    answer = answered(
        "First [1]. Second [1b]. Third [A1].", citations=[cite("[1]"), cite("[1b]"), cite("[A1]", "article")]
    )
    html = render.render_answer(answer, "q", 1, RECORDS)
    assert re.findall(r'href="#(fb-src-[^"]+)"', html) == ["fb-src-1-1", "fb-src-1-1b", "fb-src-1-A1"]


def test_every_final_message_ends_with_the_answers_audience_disclaimer() -> None:
    for answer in (
        answered(),
        answered(disclaimer=PATIENT, audience="patient"),
        Answer(answer="Call now.", refused=True, refusal_reason="emergency", disclaimer=PATIENT),
    ):
        html = render.render_answer(answer, "q", 1, RECORDS)
        assert html.endswith(f'<p class="fb-disclaimer">{render.esc(answer.disclaimer)}</p></div>')


def test_drafts_and_errors_also_end_with_the_disclaimer_and_errors_show_no_traceback() -> None:
    draft = render.render_draft("Aspirin reduced [1", CLINICIAN)
    assert "not yet checked against the sources" in draft and draft.endswith(f"{render.esc(CLINICIAN)}</p></div>")
    error = render.render_error("ab12cd34", CLINICIAN)
    assert "Sorry, something went wrong" in error and "ab12cd34" in error and "Traceback" not in error
    assert error.endswith(f"{render.esc(CLINICIAN)}</p></div>")


def test_an_emergency_reply_is_a_red_alert_and_a_crisis_reply_an_amber_one() -> None:
    emergency = Answer(
        answer="**Call 911 now**, or go to the nearest emergency department.",
        refused=True,
        refusal_reason="emergency",
        disclaimer=CLINICIAN,
        standalone_question="my friend is not breathing",
    )
    crisis = Answer(
        answer="Call or text 988. See https://findahelpline.com.",
        refused=True,
        refusal_reason="crisis",
        disclaimer=CLINICIAN,
    )
    e_html = render.render_answer(emergency, "my friend is not breathing", 1, RECORDS)
    c_html = render.render_answer(crisis, "I want to end it", 1, RECORDS)
    assert (
        'class="fb-callout fb-callout-emergency" role="alert"' in e_html and "<strong>Call 911 now</strong>" in e_html
    )
    assert 'class="fb-callout fb-callout-crisis" role="alert"' in c_html
    assert '<a href="https://findahelpline.com"' in c_html
    assert "Understood as" not in c_html


def test_a_follow_up_shows_what_it_was_understood_as_and_a_plain_question_does_not() -> None:
    follow = answered(standalone_question="What about in humans? (following up on: aspirin in mice)")
    assert "Understood as: <em>What about in humans? (following up on: aspirin in mice)</em>" in render.render_answer(
        follow, "What about in humans?", 2, RECORDS
    )
    same = answered(standalone_question="does aspirin prevent migraine")
    assert "Understood as" not in render.render_answer(same, "Does aspirin prevent migraine?", 1, RECORDS)


def test_an_abstention_lists_the_closest_passages_as_related_but_not_an_answer() -> None:
    related = [
        Passage(
            chunk_id="c9", source_id="ref1", score=0.1, text="Mice were studied for eight weeks.", section="Methods"
        )
    ]
    abstain = Answer(
        answer="The documents don't address this.",
        refused=True,
        refusal_reason="not_in_sources",
        related=related,
        disclaimer=CLINICIAN,
    )
    message = render.render_answer(abstain, "Does aspirin cause hair loss?", 4, RECORDS)
    assert (
        "Related, but not an answer" in message
        and 'href="#fb-rel-4-1"' in message
        and "Smith et al. 2019 · Methods" in message
    )
    panel = render.render_source_panel(
        [Exchange("a", answered())] * 3 + [Exchange("Does aspirin cause hair loss?", abstain)], RECORDS
    )
    assert "Related, but not an answer" in panel and 'id="fb-rel-4-1"' in panel
    assert "Mice were studied for eight weeks." in panel
    invalid = Answer(
        answer="I couldn't read a question.",
        refused=True,
        refusal_reason="invalid_input",
        related=related,
        disclaimer=CLINICIAN,
    )
    assert "Related, but not an answer" not in render.render_answer(invalid, "", 1, RECORDS)


def test_the_quoted_span_is_highlighted_inside_its_passage_even_across_whitespace() -> None:
    assert render.highlight("One. Two three. Four.", "Two three.") == "One. <mark>Two three.</mark> Four."
    spaced = render.highlight(CHUNK_TEXT, "Aspirin reduced attack frequency in mice.")
    assert "<mark>Aspirin reduced\nattack frequency in mice.</mark>" in spaced
    assert "Quoted: <mark>" in render.highlight("Unrelated text.", "A missing quote.")
    assert render.highlight("a < b", "<") == "a <mark>&lt;</mark> b"


def test_a_passage_card_shows_the_full_record_of_its_source() -> None:
    card = render.render_passage_card(cite(), 1, RECORDS)
    for expected in (
        "Smith et al. 2019",
        "Ann Smith, Bo Jones, Cy Lee, et al.",
        "Aspirin for migraine prophylaxis in mice",
        "<em>Journal of Examples</em>, 2019",
        'href="https://doi.org/10.1000/xyz123"',
        "doi:10.1000/xyz123",
        "preclinical animal study (mice)",
        'class="fb-badge fb-level-preclinical"',
        "Identification confidence",
        "fb-conf-high",
        "source card: a summary of the abstract",
        "Results",
        "<mark>",
    ):
        assert expected in card, expected


def test_a_source_card_summary_is_labelled_as_not_the_papers_own_words() -> None:
    summary = render.render_passage_card(cite(), 1, RECORDS)
    assert "fb-kind-summary" in summary and "Summary written for this corpus, not the paper&#x27;s own words" in summary
    article = render.render_passage_card(cite("[A1]", "article"), 1, RECORDS)
    assert (
        "fb-kind-article" in article and "The article&#x27;s own text" in article and "Summary written" not in article
    )
    record = render.render_passage_card(cite("[1c]", section=render.RECORD_SECTION), 1, RECORDS)
    assert "Bibliographic record compiled for this corpus" in record


def test_evidence_levels_get_distinct_badges() -> None:
    classes = {
        level: render.evidence_class(level)
        for level in (
            "preclinical",
            "case report",
            "review of small studies",
            "systematic review",
            "randomised trial",
            "narrative summary",
            "",
        )
    }
    assert classes["preclinical"] == "fb-level-preclinical" and classes["case report"] == "fb-level-case"
    assert classes["review of small studies"] == classes["systematic review"] == "fb-level-review"
    assert classes["randomised trial"] == "fb-level-trial" and classes["narrative summary"] == "fb-level-narrative"
    assert classes[""] == "fb-level-other"


def test_document_model_and_user_text_cannot_inject_markup_or_load_anything() -> None:
    evil = '<img src="http://evil.example/x.png" onerror="alert(1)">'
    answer = answered(
        f"Claim {evil} [1].",
        citations=[cite(quote="quote", chunk_text=f"quote {evil}")],
        standalone_question=evil,
        notice=evil,
    )
    html = render.render_answer(answer, "q", 1, RECORDS) + render.render_user_message(
        evil + "\n![x](http://evil.example/y.png)"
    )
    html += render.render_source_panel([Exchange(evil, answer)], RECORDS)
    assert "<img" not in html and "&lt;img" in html
    assert "javascript:" not in render.render_passage_card(cite("[2]", "ref2"), 1, RECORDS)


def test_chat_messages_are_single_line_html_so_markdown_never_reinterprets_them() -> None:
    answer = answered("First paragraph [1].\n\nSecond paragraph [2].")
    messages = render.chat_messages(
        [Exchange("line one\nline two", answer), Exchange("broken", None, error="ref123")], RECORDS, CLINICIAN
    )
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert all("\n" not in m["content"] for m in messages)
    assert messages[1]["content"].count('<p class="fb-text">') == 2
    assert "ref123" in messages[3]["content"]


def test_the_source_panel_shows_the_newest_answer_open_and_older_ones_folded() -> None:
    panel = render.render_source_panel(
        [Exchange("old question", answered()), Exchange("new question", answered())], RECORDS
    )
    assert panel.index('id="fb-turn-2" open') < panel.index('id="fb-turn-1"')
    assert 'id="fb-turn-1" open' not in panel
    assert "Documents the assistant can quote (3)" in panel
    assert "No answers yet" in render.render_source_panel([], RECORDS)


def test_a_safety_reply_has_no_evidence_in_the_panel() -> None:
    emergency = Answer(answer="Call now.", refused=True, refusal_reason="emergency", disclaimer=CLINICIAN)
    assert "this is a safety message" in render.render_source_panel([Exchange("help", emergency)], RECORDS)


def test_the_banner_keeps_its_bold_warnings_and_stays_escaped() -> None:
    banner = render.render_banner(
        "**Educational information, not medical advice.** In an emergency, **call 911** <b>x</b>."
    )
    assert 'id="fb-banner"' in banner and "<strong>Educational information, not medical advice.</strong>" in banner
    assert "<strong>call 911</strong>" in banner and "&lt;b&gt;" in banner


def test_the_notice_about_an_unknown_article_escapes_the_id_from_the_url_and_shortens_it() -> None:
    notice = render.render_article_notice('<img src=x onerror="alert(1)">', "Aspirin & <i>migraine</i>")
    assert "<img" not in notice and "<i>" not in notice and "onerror=&quot;alert(1)&quot;" in notice
    assert "is not in the library" in notice and "Aspirin &amp; &lt;i&gt;migraine&lt;/i&gt;" in notice
    assert 'role="status"' in notice
    long = render.render_article_notice("x" * 5000, "T")
    assert "x" * 79 + "…" in long and "x" * 81 not in long
    failed = render.render_article_notice("journal.pone.1", "T", reference="ab12cd34")
    assert "could not be opened (reference ab12cd34)" in failed


def test_the_picker_labels_articles_by_title_and_id_and_reads_the_id_from_the_url() -> None:
    from types import SimpleNamespace

    from followup_bot.ui.articles import choice_label, requested_article

    assert choice_label("Mischievous  Odds\nRatios", "journal.pmed.0030205") == (
        "Mischievous Odds Ratios — journal.pmed.0030205"
    )
    assert choice_label("", "journal.pone.1") == "journal.pone.1 — journal.pone.1"
    assert len(choice_label("T" * 500, "id").split(" — ")[0]) == 110
    assert requested_article(SimpleNamespace(query_params={"article": "journal.pone.1", "view": "api"})) == (
        "journal.pone.1"
    )
    assert requested_article(SimpleNamespace(query_params={})) == "" and requested_article(None) == ""


def test_suggested_questions_are_computed_once_per_article_and_the_cache_is_bounded() -> None:
    from types import SimpleNamespace

    from followup_bot.ui.articles import SuggestionCache

    views = {
        name: SimpleNamespace(id=name, records=RECORDS, chunks={c.chunk_id: c for c in [_chunk(1, [name, "Dosing"])]})
        for name in ("a", "b", "c")
    }
    opened: list[str] = []

    class Library:
        generator_info = SimpleNamespace(provider="llama-cpp")

        def article(self, article_id: str) -> SimpleNamespace:
            opened.append(article_id)
            return views[article_id]

    cache = SuggestionCache(Library(), size=2)  # type: ignore[arg-type]
    assert cache.peek("a") is None and opened == []  # nothing is computed before an article is opened
    assert cache.get("a") == ["What does the article say about dosing?"] and cache.get("a") == cache.peek("a")
    assert opened == ["a"]
    cache.get("b")
    cache.get("a")  # "a" is now the most recently used, so "c" drops "b"
    cache.get("c")
    assert cache.cached() == ["a", "c"] and opened == ["a", "b", "c"]


def _chunk(i: int, path: list[str], source: str = "article", kind: str = "text") -> Chunk:
    return Chunk(
        chunk_id=f"c{i}",
        source_id=source,
        text="t",
        section=path[-1] if path else "",
        heading_path=path,
        start=i * 10,
        end=i * 10 + 5,
        kind=kind,
    )


def test_suggested_questions_come_from_the_articles_own_leaf_headings_in_reading_order() -> None:
    chunks = [
        _chunk(5, ["Aspirin and Migraine", "Safety", "Bleeding Risk"]),
        _chunk(0, ["Aspirin and Migraine"]),
        _chunk(1, ["Aspirin and Migraine", "Evidence", "Animal Studies"]),
        _chunk(2, ["Aspirin and Migraine", "Evidence", "Animal Studies"]),
        _chunk(3, ["Aspirin and Migraine", "Evidence", "When to Consider Aspirin"]),
        _chunk(4, ["Aspirin and Migraine", "Evidence", "NSAID Alternatives"]),
        _chunk(6, ["Bibliographic record"], kind="record"),
        _chunk(7, ["A Heading In A Source"], source="ref1"),
        _chunk(8, ["Aspirin and Migraine", "References"]),
    ]
    assert render.suggested_questions(chunks, RECORDS) == [
        "What does the article say about animal studies?",
        "When to consider aspirin?",
        "What does the article say about NSAID alternatives?",
        "What does the article say about bleeding risk?",
    ]
    assert len(render.suggested_questions(chunks, RECORDS, limit=2)) == 2
    assert render.suggested_questions([], RECORDS) == []


def test_the_markdown_export_holds_questions_answers_citations_and_source_records() -> None:
    abstain = Answer(
        answer="Not in the documents.",
        refused=True,
        refusal_reason="not_in_sources",
        disclaimer=CLINICIAN,
        related=[Passage(chunk_id="c9", source_id="ref1", score=0.1, text="Mice were studied.", section="Methods")],
    )
    text = render.export_markdown(
        [
            Exchange("Does aspirin prevent migraine?", answered()),
            Exchange("Hair loss?", abstain),
            Exchange("Oops", None, error="e1"),
        ],
        RECORDS,
        title="Can aspirin prevent migraine?",
        banner="**Not medical advice.**",
        fingerprint="abc123",
        now=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    )
    for expected in (
        "# Follow-up questions: Can aspirin prevent migraine?",
        "2026-01-02 03:04 UTC",
        "configuration abc123",
        "## 1. Does aspirin prevent migraine?",
        "Aspirin reduced attacks in mice [1].",
        '- [1] Smith et al. 2019, section "Results": "Aspirin reduced attack frequency in mice."',
        "Related, but not an answer:",
        "error occurred (reference e1)",
        f"*{CLINICIAN}*",
        "## Sources",
        "**[1] Smith et al. 2019**",
        "DOI: [10.1000/xyz123](https://doi.org/10.1000/xyz123)",
        "Evidence level: preclinical",
        "Identification confidence: high",
        "Content: source card",
    ):
        assert expected in text, expected
    assert "javascript:" not in text


def test_an_emptied_framing_text_cannot_remove_the_banner_or_the_disclaimer() -> None:
    assert "not medical advice" in render.render_banner("   ")
    html = render.render_answer(answered(disclaimer=""), "q", 1, RECORDS)
    assert html.endswith(f'<p class="fb-disclaimer">{render.esc(render.DEFAULT_DISCLAIMER)}</p></div>')
    assert render.DEFAULT_DISCLAIMER in render.render_draft("", " ")


# ----------------------------------------------------------------------------- user text stays text

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "![x](http://example.test/pixel.png)",
    "[click](javascript:alert(1))",
    "<http://example.test>",
    "https://example.test/a",
    "www.example.test/b",
    "someone@example.test",
    '<iframe src="http://example.test/frame"></iframe>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    "`code` and ``double``",
    "[1]: http://example.test/ref",
]
RAW_ELEMENT = re.compile(r"<(?:img|script|iframe|svg|object|embed|video|audio|source|link|style|form|input)\b", re.I)


def _probe(payload: str) -> tuple[str, Answer]:
    """A follow-up whose payload sits after a blank line, as in the reviewers' probe."""
    message = f"What about in humans?\n\n{payload}\r\nand\ragain\u2028end"
    answer = answered(standalone_question=f"{message}? (following up on: Does aspirin prevent migraine)")
    return message, answer


def test_the_understood_as_line_shows_a_users_markdown_image_as_text_on_one_line() -> None:
    message, answer = _probe("![x](http://example.test/pixel.png)")
    html = render.render_answer(answer, message, 2, RECORDS)
    understood = re.search(r'<p class="fb-understood">(.*?)</p>', html).group(1)
    assert "\n" not in html and "\r" not in html and "\u2028" not in html
    assert "What about in humans?<br><br>![x](http://example.test/pixel.png)<br>and<br>again<br>end" in understood
    assert "<img" not in html and "example.test" not in re.sub(r">[^<]*<", "><", html)  # only in text, never markup


def test_every_chat_message_is_one_line_of_html_in_a_block_whatever_the_user_typed() -> None:
    for payload in PAYLOADS:
        message, answer = _probe(payload)
        for m in render.chat_messages([Exchange(message, answer)], RECORDS, CLINICIAN):
            content = m["content"]
            assert content.startswith("<div ") and content.endswith("</div>"), payload
            assert not re.search(r"[\r\n\u2028\u2029]", content), payload
            assert not RAW_ELEMENT.search(content), payload
            assert "javascript:" not in re.sub(r">[^<]*<", "><", content)  # not in any tag or attribute
            assert not re.search(r'href="(?!#fb-)', content), payload  # the only links are chips


def test_even_a_markdown_renderer_would_leave_chat_messages_as_our_html() -> None:
    """The Chatbot runs no Markdown; were that ever switched back on, one-line HTML blocks still pass as is."""
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark", {"html": True})
    for payload in PAYLOADS:
        message, answer = _probe(payload)
        for m in render.chat_messages([Exchange(message, answer)], RECORDS, CLINICIAN):
            assert md.render(m["content"]).strip() == m["content"], payload


def test_links_in_framing_texts_survive_but_a_url_the_user_typed_is_never_linked() -> None:
    assert '<a href="https://findahelpline.com"' in render.inline_markup("See https://findahelpline.com.")
    assert render.plain_text("https://example.test/a\n<b>") == "https://example.test/a<br>&lt;b&gt;"
    assert "<a " not in render.render_user_message("https://example.test/a")


def test_the_export_neutralises_user_text_so_no_viewer_makes_it_a_link_image_or_element() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark", {"html": True})
    exchanges = []
    for payload in PAYLOADS:
        message, answer = _probe(payload)
        exchanges.append(Exchange(message, answer))
    text = render.export_markdown(
        exchanges, RECORDS, title="T ![t](http://example.test/t.png)", banner="B", fingerprint="f"
    )
    html = md.render(text)
    assert not RAW_ELEMENT.search(html)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("https://doi.org/") for h in hrefs), hrefs  # only the sources' DOIs
    outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    assert "example.test" not in outside_code  # every URL-like word sits in a code span: no GFM autolink either
    assert "## 3. What about in humans? `![x](http://example.test/pixel.png)` and again end" in text
    assert r"## 1. What about in humans? &lt;script&gt;" not in text and r"\<script\>alert(1)\</script\>" in text


def test_markdown_neutralisers_keep_ordinary_text_bold_markers_and_https_links() -> None:
    assert render.md_literal("Does aspirin (100 mg) help?") == "Does aspirin (100 mg) help?"
    assert render.md_literal("a_b *c* [d] <e> #f") == r"a\_b \*c\* \[d\] \<e\> \#f"
    assert render.md_literal("see `x` and http://example.test") == r"see \`x\` and `http://example.test`"
    assert render.md_code("a `b` c") == "``a `b` c``"
    assert render.md_prose("**Call 988** or see https://findahelpline.com.") == (
        "**Call 988** or see https://findahelpline.com."
    )
    assert render.md_prose("Mice [1][2]. Not [a link](x).", ["[1]", "[2]"]) == r"Mice [1][2]. Not \[a link\](x)."
    assert render.md_prose("[1] first. [1](http://example.test) [1]: x", ["[1]"]) == (
        r"\[1] first. `[1](http://example.test)` \[1\]: x"
    )
    assert render.md_url("https://doi.org/10.1016/S0140(20)30183 <x>") == (
        "https://doi.org/10.1016/S0140%2820%2930183%20%3Cx%3E"
    )


@pytest.mark.parametrize("requested", ["<script>alert(1)</script>", "../../etc/passwd", "Journal.PONE.1", "x" * 121])
def test_an_id_no_article_can_have_is_unknown_without_asking_the_library(requested: str) -> None:
    from types import SimpleNamespace

    from followup_bot.errors import ArticleError
    from followup_bot.ui.articles import ArticleOpening

    class Page(ArticleOpening):
        default = "corpus-article"
        assistant = SimpleNamespace(article=lambda article_id: pytest.fail(f"the library was asked for {article_id!r}"))

    with pytest.raises(ArticleError, match="unknown article"):
        Page().view(requested)
