"""GGUF model files: header reading, assembly from wheel parts, and the checks before loading.

Synthetic GGUF files and fake wheels only, so no model is downloaded or loaded: these run in the
fast suite. Loading the real SmolLM2 file is in test_llm_providers.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from followup_bot.generators import GeneratorError, gguf


def _gguf_bytes(arch: str = "llama", name: str = "Tiny Test Model", pad: int = 64) -> bytes:
    def s(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = [
        s("general.architecture") + struct.pack("<I", 8) + s(arch),
        s("tokenizer.ggml.tokens") + struct.pack("<I", 9) + struct.pack("<IQ", 8, 2) + s("a") + s("b"),
        s("general.name") + struct.pack("<I", 8) + s(name),
    ]
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv)) + b"".join(kv) + b"\0" * pad


def test_gguf_metadata_is_read_past_arrays_and_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(_gguf_bytes())
    meta = gguf.read_gguf_metadata(path)
    assert meta["general.architecture"] == "llama" and meta["general.name"] == "Tiny Test Model"
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(GeneratorError, match="not a GGUF"):
        gguf.read_gguf_metadata(bad)


def _fake_wheels(folder: Path, blob: bytes, n: int = 2) -> tuple[list[Path], tuple[str, ...]]:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(blob) // n)
    wheels, dists = [], []
    for i in range(n):
        dist = f"fake-model-part{i + 1}"
        module = dist.replace("-", "_")
        wheel = folder / f"{module}-0.1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"{module}/__init__.py", "")
            zf.writestr(f"{module}/data/part{i + 1:02d}.bin", blob[i * size : (i + 1) * size])
        wheels.append(wheel)
        dists.append(dist)
    return wheels, tuple(dists)


def test_parts_are_joined_in_order_and_checked_before_the_rename(tmp_path: Path) -> None:
    blob = _gguf_bytes(arch="qwen2", name="Qwen2.5 Coder 1.5B Instruct", pad=5000)
    wheels, dists = _fake_wheels(tmp_path / "wheels", blob, n=3)
    spec = gguf.PackagedModel(
        name="fake",
        description="",
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        architecture="qwen2",
        name_pattern=r"qwen2\.5.*coder.*1\.5b",
        parts=dists,
        version="0.1.0",
    )
    target = tmp_path / "out" / "model.gguf"
    assert gguf.assemble(spec, wheels, target) == spec.sha256
    assert target.read_bytes() == blob
    gguf.verify_model(spec, target, force_hash=True)

    wrong = dataclasses.replace(spec, sha256="0" * 64)
    target2 = tmp_path / "out" / "model2.gguf"
    with pytest.raises(GeneratorError, match="pinned"):
        gguf.assemble(wrong, wheels, target2)
    assert not target2.exists() and not list((tmp_path / "out").glob("*.partial"))  # nothing half-written is left


def test_the_header_check_rejects_another_model(tmp_path: Path) -> None:
    blob = _gguf_bytes(arch="llama", name="Some Other Model")
    path = tmp_path / "x.gguf"
    path.write_bytes(blob)
    spec = gguf.PackagedModel(
        name="qwen",
        description="",
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        architecture="qwen2",
        name_pattern="qwen",
    )
    with pytest.raises(GeneratorError, match="architecture"):
        gguf.verify_model(spec, path)


def test_a_failed_download_is_a_clear_error(tmp_path: Path) -> None:
    spec = gguf.PackagedModel(
        name="fake",
        description="",
        size=1,
        sha256="0",
        architecture="x",
        name_pattern="x",
        parts=("fake-model-part1",),
        version="9.9.9",
    )

    def fail(*_a: Any, **_k: Any) -> Any:
        return subprocess.CompletedProcess(
            [], 1, "", "ERROR: No matching distribution found for fake-model-part1==9.9.9"
        )

    with pytest.raises(GeneratorError, match="No matching distribution"):
        gguf.download_wheels(spec, tmp_path, run=fail)


def test_an_unknown_model_name_or_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GeneratorError, match=r"neither a \.gguf file nor a known model"):
        gguf.ensure_model("no-such-model")
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    with pytest.raises(GeneratorError, match="not a GGUF"):
        gguf.ensure_model(str(not_gguf))
