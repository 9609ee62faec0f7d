"""Shared fixtures: a real settings tree pointed at temporary stores, and one real assistant.

The session assistant uses the real embedding model and a real Chroma store on disk (built once
per test session in a temporary folder), so integration tests exercise the real parts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from followup_bot.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
PLOS_LETTER = REPO / "corpus" / "plos" / "journal.pmed.0030205.xml"  # "Mischievous Odds Ratios", 3 references


def make_settings(tmp: Path, corpus_dir: Path | None = None, **sections: dict) -> Settings:
    settings = load_settings(root=REPO)
    settings.store.path = tmp / "chroma"
    settings.ui.feedback_path = tmp / "feedback.jsonl"
    if corpus_dir is not None:
        settings.corpus.dir = corpus_dir
    for section, values in sections.items():
        for key, value in values.items():
            setattr(getattr(settings, section), key, value)
    return settings


@pytest.fixture
def tmp_corpus(tmp_path: Path) -> Path:
    """A copy of the real corpus that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", target)
    for f in target.rglob("*"):
        f.chmod(0o644 if f.is_file() else 0o755)
    return target


@pytest.fixture
def tmp_settings(tmp_path: Path, tmp_corpus: Path) -> Settings:
    return make_settings(tmp_path, tmp_corpus)


@pytest.fixture(scope="session")
def session_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="session")
def session_settings(session_store_dir: Path) -> Settings:
    return make_settings(session_store_dir)


@pytest.fixture(scope="session")
def assistant(session_settings: Settings):
    from followup_bot.assistant import Assistant

    return Assistant.from_settings(session_settings)


@pytest.fixture(scope="session")
def library_settings(session_settings: Settings, assistant, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The session's store (the corpus article already indexed by `assistant`) and a library folder of
    its own, into which one short PLOS letter is imported for real (JATS parse, real model, Chroma)."""
    from followup_bot.library_import import Importer

    settings = session_settings.model_copy(deep=True)
    settings.library.dir = tmp_path_factory.mktemp("library")
    done, failures = Importer(settings).run([PLOS_LETTER])
    assert not failures and [a.id for a in done] == [PLOS_LETTER.stem]
    return settings


@pytest.fixture(scope="session")
def library_assistant(library_settings: Settings):
    """An assistant over a library of two articles: the corpus article (the default) and the PLOS letter."""
    from followup_bot.assistant import Assistant

    return Assistant.from_settings(library_settings)
