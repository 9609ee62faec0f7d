"""Chroma: one pair of collections per article (`client`), documents to passages (`documents`),
and each article's idempotent ingest and lookups (`chunk_store`)."""

from followup_bot.errors import StoreError
from followup_bot.store.chunk_store import ChunkStore, IngestReport, corpus_manifest
from followup_bot.store.client import (
    collection_base,
    collection_name,
    ingest_lock,
    list_articles,
    make_client,
    store_path_for_display,
)
from followup_bot.store.documents import chunk_one, document_hash, embedding_text, scan_documents

__all__ = [
    "ChunkStore",
    "IngestReport",
    "StoreError",
    "chunk_one",
    "collection_base",
    "collection_name",
    "corpus_manifest",
    "document_hash",
    "embedding_text",
    "ingest_lock",
    "list_articles",
    "make_client",
    "scan_documents",
    "store_path_for_display",
]
