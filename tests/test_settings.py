"""The settings tree: load order, presets, environment overrides and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from followup_bot.cli import main
from followup_bot.generators import gguf
from followup_bot.settings import ConfigError, Settings, load_settings, preset_names

REPO = Path(__file__).resolve().parents[1]


def test_defaults_come_from_the_repository_config_file() -> None:
    settings = load_settings(root=REPO)
    assert settings.generator.provider == "extractive"
    assert settings.embeddings.model.startswith("package:")
    assert settings.root == REPO


def test_every_field_has_a_description() -> None:
    def walk(model: type) -> list[str]:
        missing = []
        for name, field in model.model_fields.items():
            if not field.description:
                missing.append(f"{model.__name__}.{name}")
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                missing += walk(annotation)
        return missing

    assert walk(Settings) == []


def test_a_config_file_overrides_the_defaults_and_a_preset_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text('[generator]\nprovider = "openai"\n[retrieval]\nk = 3\n')
    settings = load_settings(config, root=REPO)
    assert settings.generator.provider == "openai" and settings.retrieval.k == 3
    settings = load_settings(config, preset="extractive", root=REPO)
    assert settings.generator.provider == "extractive" and settings.retrieval.k == 3


def test_environment_variables_override_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWUP_BOT_STORE__PATH", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("FOLLOWUP_BOT_RETRIEVAL__K", "5")
    settings = load_settings(root=REPO)
    assert settings.store.path == tmp_path / "elsewhere"
    assert settings.retrieval.k == 5


def test_an_unknown_key_is_reported_with_its_name_and_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[store]\npth = 'x'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(config, root=REPO)
    assert "store.pth" in str(err.value) and str(config) in str(err.value)


def test_a_wrong_type_is_reported_with_its_name_and_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[retrieval]\nk = 'many'\n")
    with pytest.raises(ConfigError, match=r"retrieval\.k.*bad\.toml"):
        load_settings(config, root=REPO)


def test_a_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWUP_BOT_UI__PORT", "not-a-port")
    with pytest.raises(ConfigError, match="FOLLOWUP_BOT_UI__PORT"):
        load_settings(root=REPO)


def test_missing_config_file_and_unknown_preset_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", root=REPO)
    with pytest.raises(ConfigError, match="unknown preset"):
        load_settings(preset="no-such-preset", root=REPO)
    assert "extractive" in preset_names()


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[store\npath = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config, root=REPO)


def test_the_cli_exits_2_with_one_line_on_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[store]\nmode = 'cloud'\n")
    assert main(["ingest", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "store.mode" in err and "Traceback" not in err


def test_the_fingerprint_changes_with_the_config() -> None:
    a = load_settings(root=REPO)
    b = load_settings(root=REPO)
    b.retrieval.k = a.retrieval.k + 1
    assert a.fingerprint() != b.fingerprint()


def test_the_local_presets_name_registered_gguf_models() -> None:
    for preset in ("local-smollm2", "local-qwen-1.5b"):
        settings = load_settings(preset=preset, root=REPO)
        assert settings.generator.provider == "llamacpp" and settings.generator.model in gguf.REGISTRY
    openai = load_settings(preset="openai-compatible", root=REPO)
    assert openai.generator.provider == "openai"


def test_openai_preset_reads_url_and_model_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWUP_BOT_GENERATOR__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("FOLLOWUP_BOT_GENERATOR__MODEL", "served-model")
    settings = load_settings(preset="openai-compatible", root=REPO)
    assert (settings.generator.base_url, settings.generator.model) == ("http://127.0.0.1:9/v1", "served-model")
