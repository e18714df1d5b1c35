"""The analyst's ``$XDG_CONFIG_HOME/vedette/config.toml``: where it is, and one table of it."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from engine.textsafe import visible


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vedette" / "config.toml"


def config_table(section: str, error: type[Exception], env: Mapping[str, str] | None = None,
                 path: Path | None = None) -> tuple[Path, dict]:
    """(the file, its ``[section]`` table; empty where the file or table is absent). A file that
    cannot be read, or a section that is not a table, raises ``error`` with a one-line reason."""
    path = path or config_path(env)
    if not path.is_file():
        return path, {}
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise error(f"cannot read {path}: {visible(exc)}") from None
    table = doc.get(section, {})
    if not isinstance(table, dict):
        raise error(f"{path}: [{section}] must be a table")
    return path, table
