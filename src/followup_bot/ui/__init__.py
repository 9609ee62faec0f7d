"""The chat page (Gradio 6): `serve(settings, host, port)` for the CLI, `build_app` for tests.

Gradio is imported only when one of these names is first used, so that `followup_bot.ui.render`
and `followup_bot.ui.feedback` stay cheap to import (tests, feedback tooling, other processes).
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_app", "launch", "resolve_auth", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from followup_bot.ui import app

        return getattr(app, name)
    raise AttributeError(name)
