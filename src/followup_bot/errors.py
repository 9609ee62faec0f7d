"""One error hierarchy for the whole package; the exit code is chosen at the edge.

Every error the package raises on purpose derives from `FollowupError`. The ones the *user*
can fix (a bad config key, a malformed article, a store path that is a file, an unreachable
Chroma server, a wrong argument to `ask`) derive from `UserError` and carry exit code 2; the
CLI prints them on one line. Anything else is a bug and exits 1 without a traceback unless
`--debug` is given. Modules raise these classes and never decide how they are shown, so the
same error reads the same in the CLI, the chat page and the Python API.

The classes keep a second base (`ValueError` or `RuntimeError`) where callers already caught
them that way, so code written against the old classes keeps working.
"""

from __future__ import annotations


class FollowupError(Exception):
    """Base of every error raised on purpose; `exit_code` is what the CLI returns for it."""

    exit_code: int = 1


class UserError(FollowupError):
    """Something the user can fix; the message says what and where, on one line (exit 2)."""

    exit_code = 2


class ConfigError(UserError, ValueError):
    """A bad config file, key, value, preset or environment variable."""


class CorpusError(UserError, ValueError):
    """A document, manifest or article file that cannot be read as configured."""


class StoreError(UserError, RuntimeError):
    """The vector store cannot be used as configured (missing index, bad path, server down)."""


class InputError(UserError, ValueError):
    """A caller's argument to `Assistant.ask` or the `/ask` API has the wrong shape."""


class PromptError(UserError, RuntimeError):
    """A prompt file without a built-in fallback is missing or empty."""


class EmbeddingError(UserError, RuntimeError):
    """The embedding model cannot be loaded offline."""


class GeneratorError(UserError, RuntimeError):
    """An answer provider failed or is misconfigured; the pipeline falls back to extractive."""


class DatasetError(UserError, ValueError):
    """An evaluation dataset or calibration file has a bad line."""


class GateError(UserError, ValueError):
    """A gate (thresholds) file is malformed."""


class CompareError(UserError, ValueError):
    """Two evaluation runs cannot be compared (missing or malformed report)."""


class ArticleError(UserError, ValueError):
    """An unknown article id, or an article that cannot be imported."""


class GateFailed(FollowupError):
    """The evaluation ran but a metric is below its floor; CI treats this as a failure (exit 3)."""

    exit_code = 3


__all__ = [
    "ArticleError",
    "CompareError",
    "ConfigError",
    "CorpusError",
    "DatasetError",
    "EmbeddingError",
    "FollowupError",
    "GateError",
    "GateFailed",
    "GeneratorError",
    "InputError",
    "PromptError",
    "StoreError",
    "UserError",
]
