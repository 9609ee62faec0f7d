"""HTML and Markdown for the chat page, as pure functions of the Answer contract.

Kept free of Gradio so that every visible promise of the page (the disclaimer closes every
answer, markers are chips that point at their passage, a corpus summary never looks like the
paper's own words, nothing a user, model or document writes becomes markup) can be unit-tested in
milliseconds. One module per part of the page:

- `markup`: escaping (`esc`, `plain_text`), marker chips, evidence badges: the shared pieces.
- `exchange`: one turn of the conversation, the state every view is rendered from.
- `chat`: the chat messages (user, draft, answer with chips, error).
- `records`, `sources`: a document's record, and the evidence panel of passage cards.
- `page`: header, disclaimer banner, article notice, audience note, footer.
- `suggestions`: suggested questions from the article's headings.
- `export`: the conversation as Markdown, with outside text neutralised.

`from followup_bot.ui import render` and `render.<name>` keep working for every name below.
"""

from __future__ import annotations

from followup_bot.ui.render.chat import (
    answer_body,
    chat_messages,
    render_answer,
    render_draft,
    render_error,
    render_meta,
    render_user_message,
    understood_as,
)
from followup_bot.ui.render.exchange import Exchange
from followup_bot.ui.render.export import export_markdown, md_code, md_literal, md_prose, md_url
from followup_bot.ui.render.markup import (
    ABSTAIN_REASONS,
    DEFAULT_BANNER,
    DEFAULT_DISCLAIMER,
    RECORD_SECTION,
    SAFETY_REASONS,
    badge,
    chip,
    confidence_class,
    esc,
    evidence_class,
    inline_markup,
    line_breaks,
    marker_label,
    marker_slug,
    normalise,
    paragraphs,
    passage_id,
    plain_text,
    related_id,
    safe_url,
)
from followup_bot.ui.render.page import (
    render_article_notice,
    render_audience_note,
    render_banner,
    render_footer,
    render_header,
)
from followup_bot.ui.render.records import (
    authors_text,
    is_corpus_summary,
    record_label,
    record_link,
    render_record,
    source_name,
    venue_parts,
)
from followup_bot.ui.render.sources import (
    highlight,
    render_knowledge_base,
    render_passage_card,
    render_related_card,
    render_source_panel,
)
from followup_bot.ui.render.suggestions import MAX_SUGGESTIONS, suggested_questions

__all__ = [
    "ABSTAIN_REASONS",
    "DEFAULT_BANNER",
    "DEFAULT_DISCLAIMER",
    "MAX_SUGGESTIONS",
    "RECORD_SECTION",
    "SAFETY_REASONS",
    "Exchange",
    "answer_body",
    "authors_text",
    "badge",
    "chat_messages",
    "chip",
    "confidence_class",
    "esc",
    "evidence_class",
    "export_markdown",
    "highlight",
    "inline_markup",
    "is_corpus_summary",
    "line_breaks",
    "marker_label",
    "marker_slug",
    "md_code",
    "md_literal",
    "md_prose",
    "md_url",
    "normalise",
    "paragraphs",
    "passage_id",
    "plain_text",
    "record_label",
    "record_link",
    "related_id",
    "render_answer",
    "render_article_notice",
    "render_audience_note",
    "render_banner",
    "render_draft",
    "render_error",
    "render_footer",
    "render_header",
    "render_knowledge_base",
    "render_meta",
    "render_passage_card",
    "render_record",
    "render_related_card",
    "render_source_panel",
    "render_user_message",
    "safe_url",
    "source_name",
    "suggested_questions",
    "understood_as",
    "venue_parts",
]
