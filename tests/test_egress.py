"""No egress: `followup-bot ask` and a `followup-bot serve` session reach nothing past loopback.

Each command runs as a user would start it, with HTTP_PROXY, HTTPS_PROXY and ALL_PROXY (both
spellings) pointed at a local listener that records every connection, NO_PROXY unset, and the
offline switches of the model libraries (HF_HUB_OFFLINE and friends) removed: the service must be
quiet by its own configuration, not because the test environment happens to say so. Where strace
is installed, every `connect` of the process and its children is traced as well, and each must go
to a unix socket or to loopback (and never to port 53: a lookup through a local resolver is still
a lookup).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from followup_bot.settings import Settings
from support import ProxyRecorder, free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[1]
BOT = str(Path(sys.executable).with_name("followup-bot"))
STRACE = shutil.which("strace")
QUESTION = "What did the Veraart review find about lithium?"
OFFLINE_SWITCHES = {"hf_hub_offline", "transformers_offline", "hf_datasets_offline", "gradio_analytics_enabled"}
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
LOOPBACK = re.compile(r'inet_addr\("127\.[0-9.]+"\)|inet_pton\(AF_INET6, "(::1|::ffff:127\.[0-9.]+)"')


@pytest.fixture
def proxy() -> Iterator[ProxyRecorder]:
    recorder = ProxyRecorder()
    yield recorder
    recorder.close()


@pytest.fixture
def store(tmp_path: Path, assistant: Any, session_settings: Settings) -> Path:
    """A copy of the session's store (the corpus is indexed already, so no ingest runs)."""
    target = tmp_path / "chroma"
    shutil.copytree(session_settings.resolve(session_settings.store.path), target)
    return target


def proxied_env(store: Path, proxy: ProxyRecorder, no_proxy: str | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in OFFLINE_SWITCHES | {"no_proxy"} | {p.lower() for p in PROXY_VARS}
    }
    for name in PROXY_VARS:
        env[name] = env[name.lower()] = proxy.url
    if no_proxy is not None:
        env["NO_PROXY"] = env["no_proxy"] = no_proxy
    env["PYTHONPATH"] = str(REPO / "src")
    env["FOLLOWUP_BOT_STORE__PATH"] = str(store)
    return env


def traced(args: list[str], trace: Path) -> list[str]:
    """The command under strace (following children, `connect` only), or as it is without strace."""
    if STRACE is None:
        return args
    return [STRACE, "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o", str(trace), "--", *args]


def outside_connects(trace: Path) -> list[str]:
    """Traced `connect` calls that go past loopback, or to a resolver (port 53) anywhere."""
    if STRACE is None:
        return []
    assert trace.is_file(), "strace wrote no trace"
    calls = [line for line in trace.read_text(encoding="utf-8", errors="replace").splitlines() if " connect(" in line]
    bad = []
    for line in calls:
        if "sa_family=AF_UNIX" in line or "sa_family=AF_NETLINK" in line:
            continue
        if "sa_family=AF_UNSPEC" in line:  # disconnects a datagram socket; reaches nothing
            continue
        if LOOPBACK.search(line) and "htons(53)" not in line:
            continue
        bad.append(line)
    return bad


def test_the_recorders_are_not_blind(tmp_path: Path, proxy: ProxyRecorder) -> None:
    """A process that does reach out, in the same environment, is seen by the proxy listener and by strace."""
    trace = tmp_path / "probe.trace"
    reach_out = (
        "import httpx, socket\n"
        "try: httpx.get('http://example.test/x', timeout=5)\n"
        "except httpx.HTTPError: pass\n"
        "s = socket.socket(); s.setblocking(False); s.connect_ex(('192.0.2.1', 443)); s.close()\n"
    )
    subprocess.run(
        traced([sys.executable, "-c", reach_out], trace),
        cwd=REPO,
        env=proxied_env(tmp_path / "unused", proxy),
        capture_output=True,
        timeout=120,
    )
    deadline = time.monotonic() + 5
    while not proxy.seen and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proxy.seen == ["GET http://example.test/x HTTP/1.1"]
    if STRACE is not None:
        bad = outside_connects(trace)
        assert any('inet_addr("192.0.2.1")' in line for line in bad), bad
        assert not any(f"htons({proxy.url.rsplit(':', 1)[1]})" in line for line in bad)  # the proxy is loopback


def test_ask_makes_no_outbound_connection(tmp_path: Path, store: Path, proxy: ProxyRecorder) -> None:
    trace = tmp_path / "ask.trace"
    result = subprocess.run(
        traced([BOT, "ask", QUESTION, "--json"], trace),
        cwd=REPO,
        env=proxied_env(store, proxy),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert '"citations"' in result.stdout
    assert proxy.seen == []
    assert outside_connects(trace) == []


def serve_and_ask(tmp_path: Path, env: dict[str, str]) -> tuple[dict[str, Any], Path]:
    """Start `followup-bot serve`, answer one /ask through gradio_client, stop it; the answer and the trace."""
    from gradio_client import Client

    port = free_port()
    pidfile = tmp_path / "serve.pid"
    trace = tmp_path / "serve.trace"
    log = tmp_path / "serve.log"
    # `sh` writes its pid, then becomes the server: the pid to signal, whether or not strace runs in front.
    command = ["sh", "-c", f'echo $$ > "{pidfile}"; exec "$0" "$@"', BOT, "serve", "--port", str(port)]
    with log.open("w") as out:
        runner = subprocess.Popen(traced(command, trace), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert runner.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        answer = client.predict(QUESTION, "[]", "clinician", api_name="/ask")
    finally:
        if pidfile.exists() and runner.poll() is None:
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
        try:
            runner.wait(timeout=60)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait(timeout=30)
    return answer, trace


def test_a_serve_session_makes_no_outbound_connection(tmp_path: Path, store: Path, proxy: ProxyRecorder) -> None:
    """NO_PROXY unset: Gradio's start-up self-check of its local URL must not go to the proxy (`serve`
    exempts loopback itself, see ui/server.py), and neither the server nor its answer reach anything."""
    answer, trace = serve_and_ask(tmp_path, proxied_env(store, proxy))
    assert answer["citations"] and answer["disclaimer"]
    assert proxy.seen == []
    assert outside_connects(trace) == []


def test_a_serve_session_with_loopback_exempted_makes_no_outbound_connection(
    tmp_path: Path, store: Path, proxy: ProxyRecorder
) -> None:
    """With NO_PROXY already exempting loopback (as an operator would set it), the same holds."""
    answer, trace = serve_and_ask(tmp_path, proxied_env(store, proxy, no_proxy="localhost,127.0.0.1,::1"))
    assert answer["citations"] and answer["disclaimer"]
    assert proxy.seen == []
    assert outside_connects(trace) == []
