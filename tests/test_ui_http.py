"""The page's HTTP surface, probed with plain requests against a real server: the CSP, and what is refused.

The page needs no upload and no remote file, so a request for either must be refused before
Gradio sees it, and must not make this server look up or reach any host. To see that, the
`outbound` fixture records (and blocks) what this process, where the server runs, does to
reach past loopback: host lookups through `socket.getaddrinfo` and through safehttpx (the
resolver Gradio's file route uses; under uvloop, which uvicorn picks when installed, lookups
happen in C and bypass `socket`), connections through `socket`, and anything sent to
HTTP(S)_PROXY, pointed at a local port that records what connects to it. The last test shows
the recorder is not blind: the same requests to a Gradio app without our guard make Gradio
look the host up, and ask dns.google about a private one.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import safehttpx

from followup_bot.models import Answer
from followup_bot.settings import Settings
from followup_bot.ui.guard import FILE_POLICY, inline_script_hashes, page_policy, refusal, script_hash
from support import ProxyRecorder, free_port, with_feedback_file

integration = pytest.mark.integration
LOOPBACK = {"127.0.0.1", "::1", "localhost", "None", ""}
REMOTE_TARGETS = [
    "http://example.test/pixel.png",
    "https://example.test/a",
    "HTTP://EXAMPLE.TEST/x",
    "http://localhost:9/x",
    "http://127.0.0.1:9/x",
    "http://169.254.169.254/latest/meta-data/",
    "//example.test/x",
    "http%3A%2F%2Fexample.test%2Fx",
    "ftp://example.test/x",
]


class Outbound:
    """Records every attempt of this process to reach past loopback: lookups, connections, proxied requests."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.connects: list[str] = []
        self.proxy = ProxyRecorder()
        self.proxy_url = self.proxy.url

    @property
    def proxied(self) -> list[str]:
        return self.proxy.seen

    def getaddrinfo(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else str(host)
            if name not in LOOPBACK:
                self.lookups.append(name)
                raise socket.gaierror(socket.EAI_NONAME, "the test allows no lookup past loopback")
            return real(host, *args, **kwargs)

        return lookup

    def validate_url(self, real: Callable[..., Any]) -> Callable[..., Any]:
        async def validate(hostname: str) -> Any:
            self.lookups.append(hostname)  # any call at all means Gradio's remote-file code ran
            if hostname not in LOOPBACK:
                raise ValueError("the test allows no lookup past loopback")
            return await real(hostname)

        return validate

    def connect(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(sock: socket.socket, address: Any) -> Any:
            host = str(address[0]) if isinstance(address, tuple) else str(address)
            if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in LOOPBACK:
                self.connects.append(f"{host}:{address[1]}")
                raise ConnectionRefusedError("the test allows no connection past loopback")
            return real(sock, address)

        return connect

    def attempts(self) -> list[str]:
        return [*self.lookups, *self.connects, *self.proxied]

    def close(self) -> None:
        self.proxy.close()


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[Outbound]:
    """Record (and block) outbound attempts until the block ends; start servers before entering it."""
    recorder = Outbound()
    with monkeypatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", recorder.getaddrinfo(socket.getaddrinfo))
        patch.setattr(safehttpx, "async_validate_url", recorder.validate_url(safehttpx.async_validate_url))
        patch.setattr(socket.socket, "connect", recorder.connect(socket.socket.connect))
        patch.setattr(socket.socket, "connect_ex", recorder.connect(socket.socket.connect_ex))
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            patch.setenv(name, recorder.proxy_url)
        for name in ("NO_PROXY", "no_proxy"):
            patch.delenv(name, raising=False)
        try:
            yield recorder
        finally:
            recorder.close()


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> Iterator[Outbound]:
    with recording(monkeypatch) as recorder:
        yield recorder


def http(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A request from the test itself: straight to the server, never through the recording proxy."""
    return httpx.request(method, url, trust_env=False, timeout=15, **kwargs)


@pytest.fixture(scope="module")
def server(assistant: Any, session_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from followup_bot.ui import build_app, launch

    settings = with_feedback_file(session_settings, tmp_path_factory.mktemp("ui-http"))
    app = build_app(assistant, settings)
    app.url = launch(app, settings, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True)
    yield app
    app.close()


def directives(policy: str) -> dict[str, list[str]]:
    parsed = [part.split() for part in policy.split(";") if part.strip()]
    return {words[0]: words[1:] for words in parsed}


# ----------------------------------------------------------------------------- the policy


@integration
def test_the_page_is_served_with_a_content_security_policy_that_loads_only_from_this_server(server: Any) -> None:
    response = http("GET", server.url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"] and policy["img-src"] == ["'self'", "data:"]
    local = {"'self'", "data:", "'unsafe-inline'", "'unsafe-eval'", "'none'"}
    for name, sources in policy.items():  # no host, scheme or wildcard anywhere: nothing from outside
        assert all(s in local or s.startswith("'sha256-") for s in sources), (name, sources)
    assert "'unsafe-inline'" not in policy["script-src"]  # inline scripts run only by hash
    assert policy["object-src"] == ["'none'"] and policy["frame-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'self'"] and policy["base-uri"] == ["'self'"]
    assert response.headers["x-content-type-options"] == "nosniff"


@integration
def test_the_policy_lists_the_hash_of_every_inline_script_the_page_runs(server: Any) -> None:
    from followup_bot.ui.app import page_head

    response = http("GET", server.url)
    allowed = set(directives(response.headers["content-security-policy"])["script-src"])
    in_page = inline_script_hashes(response.content)
    in_head = inline_script_hashes(page_head())  # chips.js, which Gradio inserts from the config
    assert len(in_page) >= 3 and len(in_head) == 1
    assert set(in_page) | set(in_head) <= allowed


def test_script_hashes_are_those_a_browser_computes() -> None:
    # echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
    assert script_hash("alert(1)") == "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
    assert script_hash("a\r\nb") == script_hash("a\nb")  # the HTML parser normalises line endings first
    page = '<script>one()</script><script src="x.js"></script><SCRIPT data-x>two()</SCRIPT >'
    assert inline_script_hashes(page) == [script_hash("one()"), script_hash("two()")]
    assert "'sha256-" in page_policy(["'sha256-abc='"]) and "'unsafe-inline'" not in page_policy().split("style-src")[0]


# ----------------------------------------------------------------------------- refused routes


def test_the_guard_refuses_uploads_remote_files_and_the_proxy_but_not_local_files() -> None:
    for path in ("/gradio_api/upload", "/gradio_api/upload/", "/gradio_api/upload_progress", "/x/gradio_api/upload"):
        assert refusal(path) and "upload" in str(refusal(path))
    remote = [t for t in REMOTE_TARGETS if "%" not in t]  # the server decodes %3A%2F before the guard sees it
    for target in [*remote, "javascript:alert(1)", "data:text/html,x", "\\\\host\\share"]:
        assert refusal(f"/gradio_api/file={target}") == "this server does not fetch remote files", target
        assert refusal(f"/gradio_api/file/{target}"), target
    assert refusal("/gradio_api/proxy=https://x.hf.space/") == "the proxy route is turned off"
    for allowed in ("/", "/config", "/gradio_api/file=/tmp/followup-bot-exports/a/c.md", "/gradio_api/queue/join"):
        assert refusal(allowed) is None, allowed


@integration
def test_uploads_are_refused_and_nothing_is_stored_or_fetched(server: Any, outbound: Outbound) -> None:
    token = uuid.uuid4().hex
    upload = http("POST", server.url + "gradio_api/upload", files={"files": ("note.html", f"<p>{token}</p>".encode())})
    assert upload.status_code == 403 and "uploads are turned off" in upload.text
    progress = http("GET", server.url + "gradio_api/upload_progress", params={"upload_id": "x"})
    assert progress.status_code == 403
    folder = Path(server.server_app.uploaded_file_dir)
    stored = (
        [p for p in folder.rglob("*") if p.is_file() and token.encode() in p.read_bytes()] if folder.exists() else []
    )
    assert stored == [] and outbound.attempts() == []


@integration
@pytest.mark.parametrize("target", REMOTE_TARGETS)
def test_a_remote_file_is_refused_without_any_lookup_or_connection(
    server: Any, outbound: Outbound, target: str
) -> None:
    for method in ("GET", "HEAD"):
        for route in ("gradio_api/file=", "gradio_api/file/"):
            response = http(method, server.url + route + target)
            assert response.status_code == 403, (method, route, response.status_code)
    refused = http("GET", server.url + "gradio_api/file=" + target)
    assert refused.status_code == 403 and refused.text == "Refused: this server does not fetch remote files."
    assert outbound.attempts() == []


@integration
def test_the_proxy_route_is_refused_and_run_history_is_off(server: Any, outbound: Outbound) -> None:
    assert http("GET", server.url + "gradio_api/proxy=https://evil.hf.space/x").status_code == 403
    assert http("GET", server.url + "gradio_api/run-history/buckets").status_code == 404  # route not even created
    assert http("GET", server.url + "config").json()["run_history"] is False
    assert outbound.attempts() == []


@integration
def test_the_markdown_export_is_still_served_as_a_local_file_in_a_sandbox(server: Any) -> None:
    from followup_bot.ui.render import Exchange

    path = server.fb_page.write_export([Exchange("Does it help?", Answer(answer="Yes [1].", disclaimer="Verify."))])
    response = http("GET", server.url + "gradio_api/file=" + path)
    assert response.status_code == 200 and "## 1. Does it help?" in response.text
    assert response.headers["content-security-policy"] == FILE_POLICY


@integration
def test_without_the_guard_gradio_itself_would_look_up_and_reach_out_for_a_remote_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The recorder is not blind: plain Gradio 6 resolves the host, and for a private one asks dns.google."""
    import gradio as gr

    with gr.Blocks(analytics_enabled=False) as plain:
        gr.Textbox()
    _, url, _ = plain.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, ssr_mode=False
    )
    try:
        with recording(monkeypatch) as outbound:
            safehttpx.async_resolve_hostname_google.cache_clear()  # an earlier lookup in this process is cached
            http("GET", url + "gradio_api/file=http://example.test/pixel.png")
            http("GET", url + "gradio_api/file=http://localhost:9/pixel.png")
    finally:
        plain.close()
    assert {"example.test", "localhost"} <= set(outbound.lookups)  # the lookups the guard prevents
    assert any("dns.google" in line for line in outbound.proxied), outbound.proxied  # localhost is private: ask Google
