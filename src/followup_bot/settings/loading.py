"""Loading the settings in a fixed order, with errors that name the key and the file it came from."""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from followup_bot.errors import ConfigError
from followup_bot.settings.tree import ENV_PREFIX, Settings

CONFIG_FILENAME = "followup_bot.toml"


def find_root(start: Path | None = None) -> Path:
    """The project root: the nearest folder upwards holding followup_bot.toml."""
    env_root = os.environ.get("FOLLOWUP_BOT_ROOT")
    if env_root:
        return Path(env_root).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILENAME).is_file():
            return folder
    package_root = Path(__file__).resolve().parents[3]
    if (package_root / CONFIG_FILENAME).is_file():
        return package_root
    return here


def preset_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".toml")
        for p in resources.files("followup_bot.presets").iterdir()
        if p.name.endswith(".toml")
    )


def read_toml(
    path: Path, label: str, what: str = "config file", error: type[Exception] = ConfigError
) -> dict[str, Any]:
    """A TOML file, or one line saying which file is missing, unreadable or malformed, never a traceback."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(f"{what} not found: {label}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{label}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise error(f"{label}: cannot be read ({exc.strerror})") from None


def _merge(
    base: dict[str, Any], top: dict[str, Any], origin: str, provenance: dict[tuple, str], prefix: tuple = ()
) -> None:
    for key, value in top.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, origin, provenance, path)
        else:
            base[key] = value
            provenance[path] = origin
            if isinstance(value, dict):
                for sub in _flatten(value, path):
                    provenance[sub] = origin


def _flatten(data: dict[str, Any], prefix: tuple) -> list[tuple]:
    out = []
    for key, value in data.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out.extend(_flatten(value, (*prefix, key)))
    return out


def _origin_of(loc: tuple, provenance: dict[tuple, str]) -> str:
    # The environment wins over files, so a bad value there is the one that failed.
    for n in range(len(loc), 0, -1):
        env_name = ENV_PREFIX + "__".join(str(p).upper() for p in loc[:n])
        if env_name in os.environ:
            return f"environment variable {env_name}"
    for n in range(len(loc), 0, -1):
        if loc[:n] in provenance:
            return provenance[loc[:n]]
    return "the defaults"


def load_settings(config: str | Path | None = None, preset: str | None = None, root: Path | None = None) -> Settings:
    """Build the effective settings; raise ConfigError naming the key and its file."""
    root = (root or find_root()).resolve()
    merged: dict[str, Any] = {}
    provenance: dict[tuple, str] = {}
    default_file = root / CONFIG_FILENAME
    if default_file.is_file():
        _merge(merged, read_toml(default_file, str(default_file)), str(default_file), provenance)
    if config is not None:
        path = Path(config)
        _merge(merged, read_toml(path, str(path)), str(path), provenance)
    if preset:
        names = preset_names()
        if preset not in names:
            raise ConfigError(f"unknown preset {preset!r}; available: {', '.join(names)}")
        resource = resources.files("followup_bot.presets") / f"{preset}.toml"
        label = f"preset {preset!r} ({resource})"
        try:
            data = tomllib.loads(resource.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{label}: not valid TOML ({exc})") from None
        _merge(merged, data, label, provenance)
    merged.setdefault("root", str(root))
    try:
        return Settings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        key = ".".join(str(p) for p in loc) or "(top level)"
        raise ConfigError(f"config error at key '{key}' in {_origin_of(loc, provenance)}: {err.get('msg')}") from None
