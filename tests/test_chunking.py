"""Structure-aware chunking: headings, bullets, citations, sentences and exact offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from followup_bot.corpus import CorpusError, chunk_document, load_document, load_manifest, split_sentences
from followup_bot.corpus.chunking import parse_citations, record_chunk
from followup_bot.corpus.loaders import load_html, load_text
from followup_bot.models import DocumentRecord

REPO = Path(__file__).resolve().parents[1]
REFS = {"1": "ref1", "2": "ref2", "3": "ref3"}
ARTICLE = DocumentRecord(id="doc", path="doc.md", kind="article", references=REFS)

SAMPLE = """---
title: "A sample"
disclaimer: "Not evidence."
---
# Title

Intro paragraph that says something useful about the topic. It has two sentences.

## Section A

- First bullet about rats and doses of 0.5 mg/kg [1]
- Second bullet citing two references, e.g. this one and that one [2, 3]

## References

1. Some paper that must never become a passage.

## Section B

A paragraph
that wraps onto a second line, by Lee et al. 2019. Another sentence follows here.
"""


def chunks_of(text: str, max_chars: int = 700):
    doc = load_text(text.encode(), Path("doc.md"))
    return doc, chunk_document(doc, ARTICLE, REFS, max_chars=max_chars, min_chars=5)


def test_front_matter_is_metadata_and_never_a_passage() -> None:
    doc, chunks = chunks_of(SAMPLE)
    assert doc.front_matter["disclaimer"] == "Not evidence."
    assert all("disclaimer" not in c.text and "title:" not in c.text for c in chunks)


def test_each_bullet_is_its_own_chunk_under_its_heading_path() -> None:
    _, chunks = chunks_of(SAMPLE)
    bullets = [c for c in chunks if c.section == "Section A"]
    assert len(bullets) == 2
    assert bullets[0].heading_path == ["Title", "Section A"]
    assert not bullets[0].text.startswith("-")


def test_reference_lists_are_skipped() -> None:
    _, chunks = chunks_of(SAMPLE)
    assert not any("must never become" in c.text for c in chunks)
    assert any(c.section == "Section B" for c in chunks)


def test_citations_are_parsed_from_numbered_markers() -> None:
    _, chunks = chunks_of(SAMPLE)
    a, b = [c for c in chunks if c.section == "Section A"]
    assert a.cites == ["ref1"] and b.cites == ["ref2", "ref3"]
    assert parse_citations("x [1-3] and [2]", REFS) == ["ref1", "ref2", "ref3"]


def test_offsets_round_trip_for_chunks_and_sentences() -> None:
    doc, chunks = chunks_of(SAMPLE)
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        for sentence in chunk.sentences:
            assert doc.text[sentence.start : sentence.end] == sentence.text


def test_sentence_quotes_exclude_trailing_citation_markers() -> None:
    _, chunks = chunks_of(SAMPLE)
    first = next(c for c in chunks if c.section == "Section A")
    assert first.sentences[0].text.endswith("0.5 mg/kg")
    assert first.sentences[0].cites == ["ref1"]


def test_abbreviations_and_decimals_do_not_split_sentences() -> None:
    text = "Lee et al. 2019 gave 0.5 mg/kg. Dr. Smith agreed, e.g. in rats. A third one."
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == ["Lee et al. 2019 gave 0.5 mg/kg.", "Dr. Smith agreed, e.g. in rats.", "A third one."]


def test_wrapped_paragraph_lines_stay_one_block_and_no_chunk_crosses_a_section() -> None:
    _, chunks = chunks_of(SAMPLE)
    b = [c for c in chunks if c.section == "Section B"]
    assert len(b) == 1 and "second line" in b[0].text
    assert all(len(set(c.heading_path)) == len(c.heading_path) for c in chunks)


def test_long_blocks_are_split_at_sentences_within_the_budget() -> None:
    long = "# H\n\n" + " ".join(f"Sentence number {i} talks about lamotrigine and ketamine." for i in range(30)) + "\n"
    doc, chunks = chunks_of(long, max_chars=200)
    assert len(chunks) > 3
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)


def test_chunk_ids_are_stable_content_hashes() -> None:
    _, first = chunks_of(SAMPLE)
    _, second = chunks_of(SAMPLE)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    _, edited = chunks_of(SAMPLE.replace("Intro paragraph", "Introductory paragraph"))
    assert first[0].chunk_id != edited[0].chunk_id and first[1].chunk_id == edited[1].chunk_id


def test_html_loader_drops_navigation_and_keeps_headings_and_lists() -> None:
    html = (
        b"<html><nav>Home | Personalize</nav><h1>Title</h1><p>Body text here.</p><ul><li>Item one "
        b"[1]</li></ul><footer>(c)</footer></html>"
    )
    doc = load_html(html, Path("x.html"))
    assert "Personalize" not in doc.text and "# Title" in doc.text and "- Item one [1]" in doc.text


def test_unsupported_unreadable_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "a.docx").write_bytes(b"x")
    with pytest.raises(CorpusError, match="unsupported"):
        load_document(tmp_path / "a.docx")
    (tmp_path / "b.md").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_document(tmp_path / "b.md")
    (tmp_path / "c.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(CorpusError, match="PDF"):
        load_document(tmp_path / "c.pdf")
    with pytest.raises(CorpusError, match="not found"):
        load_document(tmp_path / "missing.md")


def test_the_real_corpus_has_no_site_chrome_and_every_document_has_passages() -> None:
    manifest = load_manifest(REPO / "corpus")
    refs = manifest.reference_map()
    seen = set()
    for record in manifest.documents:
        doc = load_document(REPO / "corpus" / record.path)
        for chunk in chunk_document(doc, record, refs):
            seen.add(chunk.source_id)
            for chrome in (
                "Personalize",
                "Help us tailor",
                "Have a follow-up question",
                "Article Review Status",
                "Medical Advisory Board",
            ):
                assert chrome not in chunk.text
            assert doc.text[chunk.start : chunk.end] == chunk.text
    assert seen == {"article", "ref1", "ref2", "ref3", "ref4", "ref5"}


def test_the_bibliographic_record_becomes_a_citable_passage() -> None:
    record = DocumentRecord(
        id="r",
        path="r.md",
        reference_number=1,
        title="A title",
        authors=["Ann Lee", "Bo Chan"],
        journal="Some Journal",
        year=2019,
        doi="10.1/x",
    )
    chunk = record_chunk(record)
    assert chunk is not None and chunk.kind == "record"
    assert "Some Journal" in chunk.text and "10.1/x" in chunk.text and "Lee et al. 2019" in chunk.text
    assert all(chunk.text[s.start : s.end] == s.text for s in chunk.sentences)


def test_a_numeric_volume_in_front_matter_is_read_as_text() -> None:
    from followup_bot.models import DocumentRecord

    record = DocumentRecord(id="x", path="x.md", volume=194, pages=645)
    assert (record.volume, record.pages) == ("194", "645")


def test_the_same_text_twice_under_one_heading_gets_two_stable_ids() -> None:
    text = "# Title\n\n## Results\n\nTable 1. Baseline characteristics.\n\nTable 1. Baseline characteristics.\n"
    _, chunks = chunks_of(text)
    ids = [c.chunk_id for c in chunks if "Baseline" in c.text]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert ids == [c.chunk_id for c in chunks_of(text)[1] if "Baseline" in c.text]  # the same on every ingest
