"""JATS XML → article folder: real PLOS files, and one small hand-written file per rule.

Fast and model-free: everything here is parsing and text. The converted folders are read
back with the real manifest loader and chunker, so "converted" means "the pipeline can use it".
"""

from __future__ import annotations

import http.server
import re
import threading
import tomllib
from pathlib import Path

import pytest

from followup_bot.corpus.chunking import chunk_document, parse_citations
from followup_bot.corpus.jats import JatsArticle, manifest_text, parse_jats, write_article_folder
from followup_bot.corpus.loaders import load_document
from followup_bot.corpus.manifest import load_manifest
from followup_bot.errors import CorpusError

PLOS = Path(__file__).resolve().parents[1] / "corpus" / "plos"
MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")  # what the chunker reads as a citation


def jats(
    folder: Path,
    body: str,
    refs: str | int = 0,
    meta: str = "",
    name: str = "test.xml",
    doi: str = "10.9999/Test.ARTICLE-1",
    prolog: str = "",
) -> Path:
    """A minimal JATS file; `refs=n` gives n references labelled 1..n with ids r1..rn."""
    if isinstance(refs, int):
        refs = "".join(
            f'<ref id="r{i}"><label>{i}</label><mixed-citation>Author {i} ({2000 + i}) Title {i}.</mixed-citation></ref>'
            for i in range(1, refs + 1)
        )
    doi_el = f'<article-id pub-id-type="doi">{doi}</article-id>' if doi else ""
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<article xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML"
  article-type="research-article">
<front><journal-meta><journal-title-group><journal-title>Test Journal</journal-title></journal-title-group>
</journal-meta><article-meta>{doi_el}
<title-group><article-title>A <italic>test</italic> article</article-title></title-group>{meta}</article-meta></front>
<body>{body}</body><back><ref-list>{refs}</ref-list></back></article>"""
    path = folder / name
    path.write_text(xml, encoding="utf-8")
    return path


def cite(*labels: int, text: str | None = None) -> str:
    return "".join(f'<xref ref-type="bibr" rid="r{n}">{f"[{n}]" if text is None else text}</xref>' for n in labels)


def body_of(article: JatsArticle) -> str:
    return article.markdown.split("\n\n", 1)[1]


def unresolved_markers(article: JatsArticle) -> list[str]:
    labels = {r.label for r in article.references}
    return [m.group(0) for m in MARKER.finditer(article.markdown) if set(re.findall(r"\d+", m.group(1))) - labels]


# -- real PLOS files ----------------------------------------------------------------------


def test_a_plos_research_article_gives_its_record_abstract_sections_and_references() -> None:
    article = parse_jats(PLOS / "journal.pmed.1001300.xml")
    assert article.id == "journal.pmed.1001300"
    assert article.title.startswith("Multidrug Resistant Pulmonary Tuberculosis Treatment Regimens")
    assert article.authors[0] == "Shama D. Ahuja"
    assert article.authors[-1].startswith("Collaborative Group for Meta-Analysis")
    assert (article.journal, article.year, article.volume, article.pages) == ("PLoS Med", 2012, "9", "e1001300")
    assert article.doi == "10.1371/journal.pmed.1001300" and article.pmid is None
    assert article.licence.startswith("CC BY")
    assert article.study_type == "research article"
    assert article.abstract.startswith("Treatment of multidrug resistant tuberculosis")
    assert article.markdown.startswith("# Multidrug Resistant")
    assert "\n\n## Abstract\n\n### Background\n\nTreatment of multidrug" in article.markdown
    assert "\n\n## Methods\n\n### Selection of Studies\n\n" in article.markdown
    assert "\n\n#### Figure 1. Study selection\n\n" in article.markdown
    assert "5 table bodies left out" in article.notes
    assert len(article.references) == 60
    assert article.references[1].authors == ["J. A. Caminero", "G. Sotgiu", "A. Zumla", "G. B. Migliori"]
    assert "[3–5]" in article.markdown and not unresolved_markers(article)


def test_a_plos_one_meta_analysis_keeps_its_citations_and_reference_records() -> None:
    article = parse_jats(PLOS / "journal.pone.0016976.xml")
    assert article.id == "journal.pone.0016976"
    assert (article.journal, article.year, article.pages) == ("PLoS ONE", 2011, "e16976")
    assert article.markdown.count("\n## ") >= 4
    assert not unresolved_markers(article)
    assert [r.id for r in article.references] == [f"ref{i}" for i in range(1, len(article.references) + 1)]


def test_a_plos_one_trial_puts_each_figure_under_its_section(tmp_path: Path) -> None:
    article = parse_jats(PLOS / "journal.pone.0026358.xml")
    md = article.markdown
    study_design = md.index("### Study design, pre-treatment evaluation, and randomisation")
    assert study_design < md.index("#### Figure 1. Study flow-diagram") < md.index("### Treatment schedule")
    write_article_folder(article, tmp_path / "trial")
    manifest = load_manifest(tmp_path / "trial")
    record = manifest.article()
    assert record is not None and record.title == article.title
    chunks = chunk_document(load_document(tmp_path / "trial" / "article.md"), record, manifest.reference_map())
    assert chunks and any(c.cites for c in chunks)
    assert all(c.heading_path[0] == article.title for c in chunks)


def test_a_short_editorial_without_abstract_starts_with_its_text() -> None:
    article = parse_jats(PLOS / "journal.pntd.0000149.xml")
    assert article.study_type == "editorial" and article.abstract == ""
    assert "## Abstract" not in article.markdown
    assert body_of(article).startswith("To be sure, the other America")
    assert "\n\n## Toxocariasis\n\n" in article.markdown


def test_author_year_citations_in_a_real_article_keep_their_text() -> None:
    article = parse_jats(PLOS / "journal.pbio.0020334.xml")
    assert "(Bogdan and Klambt 2001 [7])" in article.markdown
    assert "(Kornfeld 1997 [34]; Sternberg and Han 1998 [51])" in article.markdown
    assert not unresolved_markers(article)


def test_citations_with_a_page_or_figure_locator_become_a_marker_and_the_locator() -> None:
    article = parse_jats(PLOS / "journal.pone.0005723.xml")
    assert "plate B [1]: fig. 4 and" in article.markdown
    assert not unresolved_markers(article)


def test_all_plos_files_convert_and_every_marker_resolves(tmp_path: Path) -> None:
    files = sorted(PLOS.glob("*.xml"))
    assert len(files) == 117
    skipped = []
    for path in files:
        try:
            article = parse_jats(path)
        except CorpusError as exc:
            assert "no body text" in str(exc), str(exc)
            skipped.append(path.name)
            continue
        assert unresolved_markers(article) == [], path.name
        refs = tomllib.loads(manifest_text(article))["documents"][0].get("references", {})
        for m in MARKER.finditer(article.markdown):
            assert parse_citations(m.group(0), refs), (path.name, m.group(0))
    assert len(skipped) <= 3, skipped


# -- structure ------------------------------------------------------------------------------


def test_section_headings_nest_by_depth_and_stop_at_six_levels(tmp_path: Path) -> None:
    def nest(depth: int) -> str:
        inner = nest(depth + 1) if depth < 7 else ""
        return f"<sec><title>Level {depth}</title><p>Text at depth {depth}.</p>{inner}</sec>"

    md = parse_jats(jats(tmp_path, nest(1))).markdown
    assert "\n\n## Level 1\n\nText at depth 1.\n\n### Level 2\n\n" in md
    assert "\n\n###### Level 5\n\n" in md
    assert "\n\n###### Level 6\n\n" in md and "\n\n###### Level 7\n\n" in md
    assert "#######" not in md


def test_a_section_without_title_uses_its_label_or_joins_its_parent(tmp_path: Path) -> None:
    body = (
        "<sec><title>Results</title><sec><p>First, untitled.</p></sec>"
        "<sec><label>2.1</label><p>Labelled only.</p></sec>"
        "<sec><title>Later</title><p>Titled.</p></sec><sec><p>After a titled one.</p></sec></sec>"
    )
    md = parse_jats(jats(tmp_path, body)).markdown
    assert "\n\n## Results\n\nFirst, untitled.\n\n### 2.1\n\nLabelled only.\n\n### Later\n\nTitled." in md
    assert "\n\n### Results (continued)\n\nAfter a titled one." in md


def test_paragraphs_are_one_line_and_inline_formatting_is_plain_text(tmp_path: Path) -> None:
    body = "<sec><title>S</title><p>In <italic>E.\n  coli</italic>, CD4<sup>+</sup> and\nH<sub>2</sub>O <bold>rise</bold>.</p></sec>"
    assert "\n\nIn E. coli, CD4+ and H2O rise.\n" in parse_jats(jats(tmp_path, body)).markdown


def test_lists_stay_lists_and_nested_lists_indent(tmp_path: Path) -> None:
    body = (
        "<sec><title>S</title><p>Before:<list list-type='bullet'>"
        "<list-item><p>first</p></list-item>"
        "<list-item><p>second</p><list><list-item><p>inner</p></list-item></list></list-item>"
        "</list>after.</p></sec>"
    )
    md = parse_jats(jats(tmp_path, body)).markdown
    assert "\n\nBefore:\n\n- first\n- second\n  - inner\n\nafter.\n" in md


def test_boxed_text_and_quotes_become_paragraphs(tmp_path: Path) -> None:
    body = (
        "<sec><title>S</title><boxed-text><caption><title>Box 1. Key points</title></caption>"
        "<sec><title>Why</title><p>Boxed paragraph.</p></sec></boxed-text>"
        "<disp-quote><p>A quotation.</p></disp-quote></sec>"
    )
    md = parse_jats(jats(tmp_path, body)).markdown
    assert "\n\nBox 1. Key points\n\nWhy\n\nBoxed paragraph.\n\nA quotation.\n" in md
    assert "### Why" not in md


def test_figure_and_table_captions_become_labelled_blocks_one_level_down(tmp_path: Path) -> None:
    body = (
        "<sec><title>Results</title><p>See Figure 1.</p>"
        "<fig id='f1'><label>Figure 1</label><caption><title>Survival by arm.</title>"
        "<p>Kaplan-Meier curves.</p></caption><graphic xlink:href='f1.tif'/></fig>"
        "<p>More results.</p>"
        "<table-wrap id='t1'><label>Table 2</label><caption><title>Baseline</title></caption>"
        "<table><tr><td>SECRET CELL</td></tr></table><table-wrap-foot><fn><p>FOOT</p></fn></table-wrap-foot>"
        "</table-wrap><sec><title>Sub</title><p>Subsection.</p></sec></sec>"
    )
    article = parse_jats(jats(tmp_path, body))
    assert (
        "## Results\n\nSee Figure 1.\n\nMore results.\n\n### Figure 1. Survival by arm\n\nKaplan-Meier curves."
        "\n\n### Table 2. Baseline\n\n### Sub\n\nSubsection.\n" in article.markdown
    )
    assert "SECRET CELL" not in article.markdown and "FOOT" not in article.markdown
    assert "1 table bodies left out" in article.notes


def test_formulas_footnotes_acknowledgements_and_supplements_are_left_out(tmp_path: Path) -> None:
    body = (
        "<sec><title>Methods</title><p>With <inline-formula><mml:math><mml:mi>n</mml:mi><mml:mo>=</mml:mo>"
        "<mml:mn>12</mml:mn></mml:math></inline-formula> and <inline-formula><mml:math><mml:msup><mml:mi>x</mml:mi>"
        "<mml:mn>2</mml:mn></mml:msup></mml:math></inline-formula> terms<fn><p>FOOTNOTE</p></fn>."
        "<disp-formula><mml:math><mml:mi>DISPLAY</mml:mi></mml:math></disp-formula></p>"
        "<supplementary-material><caption><p>SUPPLEMENT</p></caption></supplementary-material></sec>"
        "<sec><title>Acknowledgments</title><p>THANKS</p></sec>"
        "<sec sec-type='supplementary-material'><title>Files</title><p>SUPPLEMENT</p></sec>"
    )
    article = parse_jats(jats(tmp_path, body))
    assert "With n=12 and terms." in article.markdown
    for left_out in ("FOOTNOTE", "DISPLAY", "SUPPLEMENT", "THANKS", "x2"):
        assert left_out not in article.markdown
    assert {"1 inline formulas left out", "1 display formulas left out"} <= set(article.notes)


def test_a_structured_abstract_keeps_its_parts_and_the_body_gets_its_own_heading(tmp_path: Path) -> None:
    meta = (
        "<abstract><sec><title>Background</title><p>Why.</p></sec><sec><title>Findings</title><p>What.</p></sec>"
        "</abstract><abstract abstract-type='toc'><p>TEASER</p></abstract>"
        "<abstract abstract-type='summary'><title>Author Summary</title><p>In plain words.</p></abstract>"
    )
    article = parse_jats(jats(tmp_path, "<p>Body without sections.</p>", meta=meta))
    assert body_of(article) == (
        "## Abstract\n\n### Background\n\nWhy.\n\n### Findings\n\nWhat.\n\n"
        "## Author Summary\n\nIn plain words.\n\n## Main text\n\nBody without sections.\n"
    )
    assert article.abstract == "Why.\n\nWhat."


# -- citations ------------------------------------------------------------------------------


def test_a_plos_range_with_brackets_inside_the_xrefs_becomes_one_range(tmp_path: Path) -> None:
    body = f"<sec><title>S</title><p>Known {cite(3)}–{cite(5)}.</p></sec>"
    assert "Known [3–5]." in parse_jats(jats(tmp_path, body, refs=6)).markdown


def test_adjacent_citations_merge_into_one_bracket(tmp_path: Path) -> None:
    body = f"<sec><title>S</title><p>One {cite(4)}, {cite(5)}; {cite(9)} {cite(2)}.</p></sec>"
    assert "One [4, 5, 9, 2]." in parse_jats(jats(tmp_path, body, refs=9)).markdown


def test_brackets_written_outside_the_xrefs_are_not_doubled(tmp_path: Path) -> None:
    body = (
        f"<sec><title>S</title><p>A [{cite(4, text='4')}, {cite(5, text='5')}]. "
        f"B [{cite(6, text='6')}–{cite(8, text='8')}]. "
        f"C [{cite(1, text='1')} (see also {cite(2, text='2')})]. "
        f"D [{cite(1, text='1')}{cite(2, text='')}–{cite(3, text='3')}]. "
        f"E [{cite(1, text='1–3')}].</p></sec>"
    )
    md = parse_jats(jats(tmp_path, body, refs=8)).markdown
    assert "A [4, 5]. B [6–8]. C [1] (see also [2]). D [1–3]. E [1–3]." in md


def test_author_year_citations_keep_their_text_and_gain_a_marker(tmp_path: Path) -> None:
    body = (
        "<sec><title>S</title><p>As shown (<xref ref-type='bibr' rid='r2'>Smith et al. 2004</xref>; "
        f"{cite(3, text='Lee 2001')}), and {cite(1, text='[1: fig. 4]')}, [{cite(2, text='2')}: 12] too.</p></sec>"
    )
    md = parse_jats(jats(tmp_path, body, refs=3)).markdown
    assert "As shown (Smith et al. 2004 [2]; Lee 2001 [3]), and [1]: fig. 4, [2]: 12 too." in md


def test_markers_use_the_reference_label_not_the_xref_text(tmp_path: Path) -> None:
    refs = '<ref id="x7"><label>7</label><mixed-citation>Seven.</mixed-citation></ref>'
    body = "<sec><title>S</title><p>Cited <xref ref-type='bibr' rid='x7'>[2]</xref>.</p></sec>"
    assert "Cited [7]." in parse_jats(jats(tmp_path, body, refs=refs)).markdown


def test_other_cross_references_keep_their_text(tmp_path: Path) -> None:
    body = (
        "<sec><title>S</title><p>See <xref ref-type='fig' rid='f1'>Figure 1</xref> and "
        "<xref ref-type='supplementary-material' rid='s1'>Table S1</xref>.</p></sec>"
    )
    assert "See Figure 1 and Table S1." in parse_jats(jats(tmp_path, body, refs=1)).markdown


def test_bracketed_numbers_in_plain_text_are_not_read_as_citations(tmp_path: Path) -> None:
    body = "<sec><title>S</title><p>Values in [0, 1] and [10, 20] mm, as Smith [2] said.</p></sec>"
    article = parse_jats(jats(tmp_path, body, refs=20))
    assert "Values in [ 0, 1 ] and [ 10, 20 ] mm, as Smith [2] said." in article.markdown
    assert not unresolved_markers(article)


# -- references -----------------------------------------------------------------------------


def test_every_reference_becomes_a_record_with_its_label_as_id(tmp_path: Path) -> None:
    refs = (
        '<ref id="a"><label>1</label><element-citation publication-type="journal">'
        '<person-group person-group-type="author"><name><surname>Lee</surname><given-names>Mei-Yi</given-names></name>'
        "<name><surname>Chen</surname><given-names>HH</given-names></name><collab>TB Group</collab></person-group>"
        "<article-title>Lamotrigine and ketamine</article-title><source>Drug Alcohol Depend</source>"
        "<year>2019</year><volume>194</volume><fpage>257</fpage><lpage>263</lpage>"
        '<pub-id pub-id-type="doi">10.1016/j.x.2018.10.028</pub-id><pub-id pub-id-type="pmid">30469096</pub-id>'
        "</element-citation></ref>"
        '<ref id="b"><mixed-citation publication-type="book"><name><surname>Roe</surname>'
        "<given-names>J</given-names></name> (1999) <source>A Book</source>. "
        '<ext-link xlink:href="http://www.ncbi.nlm.nih.gov/pubmed/10000001">PubMed</ext-link> '
        '<ext-link xlink:href="https://example.org/book">link</ext-link></mixed-citation></ref>'
        '<ref id="c"><label>A1</label><mixed-citation>Unstructured text, 2003, Journal.</mixed-citation></ref>'
        '<ref id="d"><label>1</label><mixed-citation>Duplicate label (1990)</mixed-citation></ref>'
    )
    article = parse_jats(jats(tmp_path, "<p>Text.</p>", refs=refs))
    first, book, lettered, duplicate = article.references
    assert [r.id for r in article.references] == ["ref1", "ref2", "refa1", "ref1-2"]
    assert (first.number, book.number, lettered.number) == (1, 2, None)
    assert first.authors == ["M.-Y. Lee", "H. H. Chen", "TB Group"]
    assert (first.title, first.journal, first.year, first.volume, first.pages) == (
        "Lamotrigine and ketamine",
        "Drug Alcohol Depend",
        2019,
        "194",
        "257-263",
    )
    assert (first.doi, first.pmid) == ("10.1016/j.x.2018.10.028", "30469096")
    assert (book.title, book.journal, book.authors) == ("A Book", "", ["J. Roe"])
    assert (book.pmid, book.url) == ("10000001", "http://www.ncbi.nlm.nih.gov/pubmed/10000001")
    assert lettered.title == "" and lettered.text == "Unstructured text, 2003, Journal."
    assert duplicate.year == 1990
    refs_map = tomllib.loads(manifest_text(article))["documents"][0]["references"]
    assert refs_map == {"1": "ref1", "2": "ref2", "A1": "refa1"}  # a repeated label keeps its first entry


# -- ids, errors, safety --------------------------------------------------------------------


def test_the_article_id_comes_from_the_doi_or_else_the_file_name(tmp_path: Path) -> None:
    assert parse_jats(jats(tmp_path, "<p>T.</p>")).id == "test.article-1"
    assert parse_jats(jats(tmp_path, "<p>T.</p>", doi="10.1016/S0140-6736(20)30183-5")).id == "s0140-6736-20-30183-5"
    assert parse_jats(jats(tmp_path, "<p>T.</p>", doi="", name="My Paper (v2).xml")).id == "my-paper-v2"


def test_malformed_xml_is_a_corpus_error_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text("<article>\n<body>\n<p>unclosed</body>\n</article>\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"^broken\.xml: not well-formed XML \(line 3\)"):
        parse_jats(path)


def test_a_file_that_is_not_a_jats_article_is_a_corpus_error(tmp_path: Path) -> None:
    path = tmp_path / "page.xml"
    path.write_text("<html><body><p>Hello</p></body></html>", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"^page\.xml: not a JATS article \(the root element is <html>"):
        parse_jats(path)


def test_an_article_without_any_paragraph_is_a_corpus_error(tmp_path: Path) -> None:
    path = jats(tmp_path, "<sec><title>Only a heading</title></sec>", name="empty.xml")
    with pytest.raises(CorpusError, match=r"^empty\.xml: no body text"):
        parse_jats(path)


def test_an_unreadable_file_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"^missing\.xml: cannot be read"):
        parse_jats(tmp_path / "missing.xml")
    (tmp_path / "folder.xml").mkdir()
    with pytest.raises(CorpusError, match=r"^folder\.xml: cannot be read"):
        parse_jats(tmp_path / "folder.xml")


def test_external_entities_and_dtds_are_neither_resolved_nor_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY remote "REMOTE-CONTENT">')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        prolog = (
            f'\n<!DOCTYPE article SYSTEM "{url}/jats.dtd" [\n'
            f'<!ENTITY x SYSTEM "file://{secret}">\n<!ENTITY y SYSTEM "{url}/y.txt">\n]>'
        )
        body = "<sec><title>S &x;</title><p>Before &x; middle &y; after &amp; &nbsp;end.</p></sec>"
        article = parse_jats(jats(tmp_path, body, prolog=prolog))
    finally:
        server.shutdown()
    assert "TOP-SECRET-CONTENT" not in article.markdown and "REMOTE-CONTENT" not in article.markdown
    assert "Before middle after & end." in article.markdown  # &nbsp; is a known HTML name
    assert requests == []


# -- the folder -----------------------------------------------------------------------------


def test_the_written_folder_loads_with_the_real_manifest_reader_and_chunker(tmp_path: Path) -> None:
    body = f"<sec><title>Findings</title><p>Lamotrigine reduced craving in rats {cite(1)}, {cite(2)}.</p></sec>"
    article = parse_jats(jats(tmp_path, body, refs=2))
    write_article_folder(article, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "test.xml"]  # no temporary folder left behind
    manifest = load_manifest(tmp_path / "out")
    raw = tomllib.loads((tmp_path / "out" / "manifest.toml").read_text(encoding="utf-8"))
    assert (raw["id"], raw["source"]) == ("test.article-1", "test.xml")
    record = manifest.article()
    assert record is not None
    assert (record.kind, record.path, record.journal, record.content_kind) == (
        "article",
        "article.md",
        "Test Journal",
        "full text (JATS)",
    )
    assert record.references == {"1": "ref1", "2": "ref2"}
    ref1 = manifest.by_id()["ref1"]
    assert (ref1.kind, ref1.path, ref1.reference_number, ref1.year) == ("source", "", 1, 2001)
    assert ref1.content_kind == "bibliographic record only"
    chunks = chunk_document(load_document(tmp_path / "out" / "article.md"), record, manifest.reference_map())
    assert [c.cites for c in chunks] == [["ref1", "ref2"]]


def test_strings_with_quotes_backslashes_and_control_characters_survive_the_manifest(tmp_path: Path) -> None:
    meta = (
        '<contrib-group><contrib contrib-type="author"><collab>The "Quoted" \\ Group</collab></contrib></contrib-group>'
    )
    article = parse_jats(jats(tmp_path, "<p>T.</p>", meta=meta))
    assert article.authors == ['The "Quoted" \\ Group']
    article.title = 'A "title" with \\, a tab\t, a newline\n, \x01 and \x7f'
    data = tomllib.loads(manifest_text(article))
    assert data["title"] == article.title
    assert data["documents"][0]["authors"] == article.authors


def test_a_folder_is_replaced_only_when_it_holds_an_earlier_conversion(tmp_path: Path) -> None:
    article = parse_jats(jats(tmp_path, "<p>First version.</p>"))
    write_article_folder(article, tmp_path / "out")
    article.markdown = "# A test article\n\nSecond version.\n"
    write_article_folder(article, tmp_path / "out")
    assert "Second version." in (tmp_path / "out" / "article.md").read_text(encoding="utf-8")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.md").write_text("mine", encoding="utf-8")
    with pytest.raises(CorpusError, match="holds other files"):
        write_article_folder(article, tmp_path / "other")
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["notes.md"]
