"""HTTP hardening for the chat page: a Content-Security-Policy, and no routes the page does not use.

Why this is a middleware: Gradio 6.31 has no setting to add response headers, to turn uploads
off, or to stop `/gradio_api/file=<http URL>` from reaching out (it resolves the host, and when
the host resolves to a private address it also asks dns.google over HTTPS, then fetches the URL
itself). `launch` hands `PageGuard` to the FastAPI app Gradio builds (`app_kwargs=
{"middleware": ...}`), so it sees every request before Gradio's routes do.

- The page gets a CSP that lets it load only from this server: `img-src 'self' data:`, and no
  outside script, style, font, frame or connection. Inline scripts run only if their SHA-256 is
  listed: the hashes of Gradio's own inline scripts are computed from each page as it is sent
  (its config script differs per request), and those of our `head` (chips.js) at launch. So an
  injected `<script>`, `onerror=` handler or `javascript:` link cannot run even if the escaping
  and Gradio's sanitiser were ever bypassed. `'unsafe-eval'` is needed by Gradio itself: `gr.HTML`
  renders its template with `Function(...)`; it lets running code evaluate strings, not markup
  inject code. Styles may be inline (Svelte sets style attributes), from this server only.
- Uploads (`/gradio_api/upload`, `/gradio_api/upload_progress`) are refused: the page has no
  upload component and the `/ask` API takes only text.
- `/gradio_api/file=` (and `/gradio_api/file/`) serves local files only (the Markdown export):
  anything with a URL scheme or a `//` host is refused before Gradio sees it, so nothing is
  resolved or fetched. The `proxy=` route (for `gr.load`ed Spaces, unused here) is refused too.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_UPLOAD = re.compile(r"/gradio_api/upload(?:_progress)?/?$")
_FILE = re.compile(r"/gradio_api/file[=/](.*)$", re.DOTALL)
_PROXY = re.compile(r"/gradio_api/proxy=")
_REMOTE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9+.\-]*:|[/\\]{2})")
_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC_ATTRIBUTE = re.compile(rb"\bsrc\s*=", re.IGNORECASE)

# A file served from disk (the Markdown export) is a document of its own: it may load nothing.
FILE_POLICY = "default-src 'none'; sandbox"
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def script_hash(source: str | bytes) -> str:
    """The CSP source for one inline script: 'sha256-…' of its text (line endings as the parser sees them)."""
    raw = source.encode("utf-8") if isinstance(source, str) else source
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return "'sha256-" + base64.b64encode(hashlib.sha256(raw).digest()).decode("ascii") + "'"


def inline_script_hashes(document: str | bytes) -> list[str]:
    """The hash of every inline `<script>` (one without `src=`) in an HTML document or fragment."""
    raw = document.encode("utf-8") if isinstance(document, str) else document
    return [script_hash(body) for attrs, body in _INLINE_SCRIPT.findall(raw) if not _SRC_ATTRIBUTE.search(attrs)]


def page_policy(script_hashes: Iterable[str] = ()) -> str:
    """The page's Content-Security-Policy: everything from this server only, scripts by hash."""
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", "'unsafe-eval'", *sorted(set(script_hashes))]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "media-src": "'self'",
        "object-src": "'none'",
        "frame-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'self'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def refusal(path: str) -> str | None:
    """Why a request to `path` is refused, or None when Gradio may handle it."""
    if _UPLOAD.search(path):
        return "uploads are turned off; this page has no upload"
    match = _FILE.search(path)
    if match and _REMOTE.match(match.group(1)):
        return "this server does not fetch remote files"
    if _PROXY.search(path):
        return "the proxy route is turned off"
    return None


class PageGuard:
    """ASGI middleware: refuse unused routes, and send the CSP (and two small headers) with responses."""

    def __init__(self, app: ASGIApp, script_hashes: Iterable[str] = ()) -> None:
        self.app = app
        self.script_hashes = tuple(script_hashes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        reason = refusal(path)
        if reason is not None:
            response = PlainTextResponse(f"Refused: {reason}.", status_code=403, headers=COMMON_HEADERS)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, _HeaderWriter(send, self.script_hashes, is_file=bool(_FILE.search(path))))


class _HeaderWriter:
    """Wraps `send`: an HTML page is held until complete, so its inline scripts can be hashed."""

    def __init__(self, send: Send, script_hashes: tuple[str, ...], *, is_file: bool) -> None:
        self.send = send
        self.script_hashes = script_hashes
        self.is_file = is_file
        self.held: Message | None = None
        self.body: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in COMMON_HEADERS.items():
                headers[name] = value
            content_type = headers.get("content-type", "")
            if self.is_file:
                headers["Content-Security-Policy"] = FILE_POLICY
            elif content_type.startswith("text/html") and "content-encoding" not in headers:
                self.held = message
                return
            elif content_type.startswith("text/html"):
                headers["Content-Security-Policy"] = page_policy(self.script_hashes)
            await self.send(message)
            return
        if self.held is None:
            await self.send(message)
            return
        if message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._flush(b"".join(self.body))
            return
        await self._flush(b"".join(self.body), more=message)  # an extension message: pass it on after the start

    async def _flush(self, body: bytes, more: Message | None = None) -> None:
        start, self.held = self.held, None
        assert start is not None
        headers = MutableHeaders(scope=start)
        headers["Content-Security-Policy"] = page_policy([*self.script_hashes, *inline_script_hashes(body)])
        if more is None:
            if "content-length" in headers:
                headers["Content-Length"] = str(len(body))
            await self.send(start)
            await self.send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await self.send(start)
        if body:
            await self.send({"type": "http.response.body", "body": body, "more_body": True})
        await self.send(more)
