"""JATS reference lists → bibliographic records, and citation runs → `[n]` markers.

The chunker resolves `[n]`, `[n, m]` and `[n–m]` through the manifest's `references` map, so
every marker the converter writes must use a label that map knows. Labels therefore come
from the reference list itself (each `<ref>`'s own `<label>`, or its position when it has
none), never from the xref's display text, which is typography ("[3]", "3", "Smith 2004").

Text is read by walking the tree, not with `itertext()`: the parser leaves entity references
unresolved, and `itertext()` would copy their raw `&name;` into the output. Here an entity
reference becomes its character only when it is a standard HTML name, whatever the DOCTYPE
says it stands for, so a declared `SYSTEM` entity can never bring a file's text in.
"""

from __future__ import annotations

import html.entities
import re
from dataclasses import dataclass, field

from lxml import etree

XLINK = "{http://www.w3.org/1999/xlink}"
CITATION_TAGS = frozenset({"element-citation", "mixed-citation", "nlm-citation", "citation"})
# A range wider than this between two markers is more likely a typo than 60 cited works.
MAX_RANGE = 50


def local(el: object) -> str:
    """The element's name without a namespace; "" for entities, comments and PIs."""
    tag = getattr(el, "tag", None)
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def entity_text(node: etree._Entity) -> str:
    """A known HTML entity's character; anything else (a DTD's own entity) is dropped."""
    code = html.entities.name2codepoint.get(str(node.name))
    return chr(code) if code is not None else ""


_SPACED = frozenset({"name", "string-name", "person-group"})


def text_of(el: etree._Element | None, skip: frozenset[str] = frozenset()) -> str:
    """The element's text with whitespace collapsed, leaving out subtrees named in `skip`.

    Parts of a name are spaced ("Caminero JA"): PLOS writes `<surname>` and `<given-names>`
    side by side, and a citation's plain text would read "CamineroJA".
    """
    if el is None:
        return ""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        parts.append(node.text or "")
        for child in node:
            if isinstance(child, etree._Entity):
                parts.append(entity_text(child))
            elif local(child) and local(child) not in skip:
                walk(child)
            if local(node) in _SPACED:
                parts.append(" ")
            parts.append(child.tail or "")

    walk(el)
    return collapse("".join(parts))


@dataclass
class JatsReference:
    """One entry of the reference list, as the manifest will record it."""

    id: str
    label: str
    number: int | None
    authors: list[str] = field(default_factory=list)
    title: str = ""
    journal: str = ""
    year: int | None = None
    volume: str = ""
    pages: str = ""
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None
    text: str = ""


def slug(text: str) -> str:
    """Lower-case [a-z0-9._-] only; other runs become "-" so "(20)30" stays readable."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")


def _initials(given: str) -> str:
    """ "Shama D." / "SD" / "Jean-Pierre" → "S. D." / "S. D." / "J.-P."."""
    given = collapse(given)
    if re.fullmatch(r"[A-Z]{1,4}", given):
        return " ".join(f"{c}." for c in given)
    words = [w for w in re.split(r"[\s.]+", given) if w]
    return " ".join("-".join(f"{part[0]}." for part in w.split("-") if part) for w in words)


def _person(el: etree._Element) -> str:
    """Initials first, surname last, so `DocumentRecord.short_name` finds the surname."""
    if local(el) == "collab":
        return text_of(el, skip=frozenset({"contrib-group", "xref", "sup"}))
    surname = text_of(el.find("surname"))
    given = _initials(text_of(el.find("given-names")))
    if not surname:
        return text_of(el)
    return f"{given} {surname}" if given else surname


def _authors(citation: etree._Element) -> list[str]:
    """The author group; else names written straight in the citation; else editors."""
    groups = citation.findall("person-group")
    authors = [g for g in groups if g.get("person-group-type", "author") == "author"]
    for containers in (authors, [citation], groups):
        names: list[str] = []
        for container in containers:
            for child in container:
                name = _person(child) if local(child) in {"name", "string-name", "collab"} else ""
                if name and name not in names:
                    names.append(name)
        if names:
            return names
    return []


def _year(citation: etree._Element, text: str) -> int | None:
    """The `<year>`; an unstructured citation's "(2010)" if it has none."""
    match = re.search(r"\d{4}", text_of(citation.find(".//year"))) or re.search(r"\(((?:1[89]|20)\d\d)[a-z]?\)", text)
    return int(match.group(match.lastindex or 0)) if match else None


def _pages(citation: etree._Element) -> str:
    first, last = text_of(citation.find("fpage")), text_of(citation.find("lpage"))
    if first:
        return f"{first}-{last}" if last and last != first else first
    return text_of(citation.find("page-range")) or text_of(citation.find("elocation-id"))


def _links(citation: etree._Element, text: str) -> tuple[str | None, str | None, str | None]:
    """DOI, PMID and URL, from pub-ids first, then links (PLOS links PubMed records), then the text."""
    ids = {(p.get("pub-id-type") or "").lower(): text_of(p) for p in citation.iter("pub-id")}
    doi, pmid = ids.get("doi") or None, ids.get("pmid") or None
    url = None
    for link in (*citation.iter("ext-link"), *citation.iter("uri")):
        href = link.get(f"{XLINK}href") or text_of(link)
        found = re.search(r"doi\.org/(10\.\S+)", href)
        pubmed = re.search(r"(?:ncbi\.nlm\.nih\.gov/pubmed|pubmed\.ncbi\.nlm\.nih\.gov)/(\d+)", href)
        if found:
            doi = doi or found.group(1)
        elif href and url is None:
            url = href
        if pubmed:
            pmid = pmid or pubmed.group(1)
    if doi is None:
        found = re.search(r"\b(10\.\d{4,9}/\S+)", text)
        doi = found.group(1).rstrip(".,;)") if found else None
    return doi, pmid, url


def parse_reference(ref: etree._Element, position: int, taken: set[str]) -> JatsReference:
    """One `<ref>`; `taken` holds the ids given so far, so a repeated label gets "-2"."""
    label = text_of(ref.find("label")).strip("[]().: ")
    citation = next((c for c in ref if local(c) in CITATION_TAGS), ref)
    number = int(label) if label.isdigit() else (position if not label else None)
    base = "ref" + (slug(label) or str(position))
    ref_id, n = base, 1
    while ref_id in taken:
        n += 1
        ref_id = f"{base}-{n}"
    taken.add(ref_id)
    text = text_of(citation)
    title = text_of(citation.find("article-title")) or text_of(citation.find("chapter-title"))
    source = text_of(citation.find("source"))
    doi, pmid, url = _links(citation, text)
    return JatsReference(
        id=ref_id,
        label=label or str(position),
        number=number,
        authors=_authors(citation),
        title=title or source,
        journal=source if title else "",
        year=_year(citation, text),
        volume=text_of(citation.find("volume")),
        pages=_pages(citation),
        doi=doi,
        pmid=pmid,
        url=url,
        text=text,
    )


def ref_elements(root: etree._Element) -> list[etree._Element]:
    """Every `<ref>` of the article's own back matter, in order (sub-articles keep theirs)."""
    back = root.find("back")
    return back.findall(".//ref") if back is not None else []


def parse_references(root: etree._Element) -> list[JatsReference]:
    taken: set[str] = set()
    return [parse_reference(ref, i, taken) for i, ref in enumerate(ref_elements(root), start=1)]


def expand(text: str) -> list[tuple[str, bool]]:
    """ "1–3, 7" → [(1, False), (2, True), (3, True), (7, False)]; True = joined by a range."""
    out: list[tuple[str, bool]] = []
    for part in re.split(r"\s*[,;]\s*", text.strip()):
        bounds = [b for b in re.split(r"\s*[–—-]\s*", part) if b]
        if len(bounds) == 2 and 0 < int(bounds[1]) - int(bounds[0]) <= MAX_RANGE:
            lo, hi = int(bounds[0]), int(bounds[1])
            out.append((str(lo), False))
            out.extend((str(k), True) for k in range(lo + 1, hi + 1))
        else:
            out.extend((b, False) for b in bounds)
    return out


def format_run(items: list[tuple[str, bool]], known: set[str]) -> str:
    """Labels in citing order → "4, 5" or "14–16".

    A range separator between two numbers brings in the labels between them (PLOS writes
    `[14]–[16]` with no xref for 15). Three or more consecutive numbers, or two the source
    joined with a dash, print as a range; anything else prints as a list, in the author's order.
    """
    filled: list[tuple[str, bool]] = []
    for label, ranged in items:
        if ranged and filled and filled[-1][0].isdigit() and label.isdigit():
            lo, hi = int(filled[-1][0]), int(label)
            if 0 < hi - lo <= MAX_RANGE:
                filled.extend((str(k), True) for k in range(lo + 1, hi) if str(k) in known)
        filled.append((label, ranged))
    unique: list[tuple[str, bool]] = []
    for label, ranged in filled:
        if all(label != seen for seen, _ in unique):
            unique.append((label, ranged))
    parts: list[str] = []
    i = 0
    while i < len(unique):
        j = i
        while (
            j + 1 < len(unique)
            and unique[j][0].isdigit()
            and unique[j + 1][0].isdigit()
            and int(unique[j + 1][0]) == int(unique[j][0]) + 1
        ):
            j += 1
        if j - i >= 2 or (j - i == 1 and unique[j][1]):
            parts.append(f"{unique[i][0]}–{unique[j][0]}")
        else:
            parts.extend(lab for lab, _ in unique[i : j + 1])
        i = j + 1
    return ", ".join(parts)
