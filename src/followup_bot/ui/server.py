"""Launching the chat page: theme, assets, auth, middleware, Gradio's job slots, and the proxy exemption.

`app.build_app` lays the page out and wires its events; this module starts a server for it.

- `resolve_auth` refuses to start with a login name but no password, rather than run open.
- `job_slots` gives Gradio more job slots than the gate can ever hold questions (see `admission`),
  so that a safety reply never waits in Gradio's own queue.
- `exempt_loopback_from_proxy`: Gradio's `launch()` checks its own local URL with httpx, which
  honours HTTP_PROXY; with a proxy set and NO_PROXY not covering loopback, that check goes to the
  proxy and `serve` dies at start-up. Loopback is therefore added to NO_PROXY and no_proxy (what
  they held is kept) before launching. Nothing else changes: every other address still goes
  through the proxy, when anything does.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from importlib import resources

import gradio as gr
from starlette.middleware import Middleware

from followup_bot.settings import ConfigError, Settings
from followup_bot.ui.guard import PageGuard, inline_script_hashes
from followup_bot.ui.handlers import EXPORT_ROOT
from followup_bot.ui.login import LoginThrottle

__all__ = ["exempt_loopback_from_proxy", "job_slots", "launch", "page_head", "resolve_auth"]

# Gradio job slots beyond the questions the gate may hold (workers + waiting line) and the article
# openings: room for safety replies, busy answers, feedback and the like while the line is full.
SPARE_JOB_SLOTS = 64
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")


def asset(name: str) -> str:
    """Read a file shipped beside this module (package data: ui/*.css, ui/*.js)."""
    return resources.files("followup_bot.ui").joinpath(name).read_text(encoding="utf-8")


def page_theme() -> gr.themes.Base:
    """The default theme, whose fonts are `LocalFont`s served by our own server (no Google Fonts)."""
    return gr.themes.Default(primary_hue="blue", secondary_hue="sky", neutral_hue="slate", radius_size="md")


def page_head() -> str:
    """What `launch(head=...)` adds to the page: page-level CSS, and the chips script (hashed by the CSP)."""
    return f"<style>{asset('page.css')}</style><script>{asset('chips.js')}</script>"


def resolve_auth(settings: Settings) -> tuple[str, str] | None:
    """Basic-auth credentials, or None; refuse to start without a password rather than run open."""
    user = settings.ui.auth_user.strip()
    if not user:
        return None
    env = settings.ui.auth_password_env
    password = os.environ.get(env, "")
    if not password:
        raise ConfigError(
            f"ui.auth_user is set to {user!r} but the environment variable {env} (ui.auth_password_env) holding "
            "the password is empty or unset; set it, or clear ui.auth_user to serve without a login"
        )
    return (user, password)


def job_slots(settings: Settings) -> int:
    """Gradio's `max_threads`: its job slots (and threads for plain functions). Every question the gate may
    hold takes a slot while it waits, and so does each article being opened, so there must be more than
    those, or a safety reply would queue in Gradio."""
    ui = settings.ui
    return ui.concurrency_limit + ui.max_queue + ui.concurrency_limit + SPARE_JOB_SLOTS


def exempt_loopback_from_proxy(environ: MutableMapping[str, str] | None = None) -> str:
    """Add localhost, 127.0.0.1 and ::1 to NO_PROXY and no_proxy, keeping what either held; the new value.

    Both spellings get the same list (the entries of both, then the loopback names missing from
    them), since libraries differ in which one they read first."""
    env = os.environ if environ is None else environ
    entries: list[str] = []
    for name in NO_PROXY_VARS:
        for entry in env.get(name, "").split(","):
            entry = entry.strip()
            if entry and entry not in entries:
                entries.append(entry)
    entries += [host for host in LOOPBACK_HOSTS if host not in entries]
    value = ",".join(entries)
    for name in NO_PROXY_VARS:
        env[name] = value
    return value


def launch(
    demo: gr.Blocks,
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> str:
    """Start the server with the page's theme, CSS and script; returns the local URL.

    Besides the look: `PageGuard` (CSP, no uploads or remote files), no run history (it would keep
    readers' questions in the browser and add routes that call the Hugging Face Hub), no static
    file workers (they would serve uploads and files on ports the guard does not cover), and a
    one-byte upload cap in case a future route escaped the guard. Loopback is exempted from any
    HTTP proxy first (see the module notes).
    """
    EXPORT_ROOT.mkdir(parents=True, exist_ok=True)
    exempt_loopback_from_proxy()
    head = page_head()
    server_name = host or settings.ui.host
    server_port = port or settings.ui.port
    try:
        _, url, _ = demo.launch(
            server_name=server_name,
            server_port=server_port,
            auth=auth,
            auth_message="Sign in to the follow-up assistant." if auth else None,
            prevent_thread_lock=prevent_thread_lock,
            quiet=quiet,
            share=False,
            inbrowser=False,
            show_error=False,
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
            enable_monitoring=False,
            footer_links=["api"],
            theme=page_theme(),
            css=asset("style.css"),
            head=head,
            allowed_paths=[str(EXPORT_ROOT)],
            app_kwargs={
                "middleware": [
                    Middleware(PageGuard, script_hashes=inline_script_hashes(head)),
                    Middleware(
                        LoginThrottle,
                        max_failures=settings.ui.login_max_failures,
                        lockout_s=settings.ui.login_lockout_s,
                    ),
                ]
            },
            run_history=False,
            num_workers=0,
            max_threads=job_slots(settings),
            max_file_size=1,
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot serve on {server_name}:{server_port} ({exc}); choose another --port or --host"
        ) from None
    return str(url)
