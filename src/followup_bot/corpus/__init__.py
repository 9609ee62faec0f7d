"""Documents and their reference list: manifest, file loaders, structure-aware chunking."""

from followup_bot.corpus.chunking import chunk_document, record_chunk, split_sentences
from followup_bot.corpus.loaders import LoadedDocument, load_document
from followup_bot.corpus.manifest import CorpusError, Manifest, load_manifest

__all__ = [
    "CorpusError",
    "LoadedDocument",
    "Manifest",
    "chunk_document",
    "load_document",
    "load_manifest",
    "record_chunk",
    "split_sentences",
]
