"""User key remapping: a TOML file of binding id -> keys under the XDG config dir.

``$XDG_CONFIG_HOME/vedette/keys.toml`` (default ``~/.config/vedette/keys.toml``)::

    # binding id = "key" or "key1,key2" (Textual key names: ctrl+o, f5, question_mark, ...)
    [keys]
    "incidents.open" = "enter,o"
    "triage.true_positive" = "1"

Every binding id is listed in the help screen (``?``), next to its key. Ids not known to this
version are reported when the app starts, not silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vedette" / "keys.toml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """(binding id -> keys, problems). A missing file is no keymap and no problem."""
    path = path or config_path()
    if not path.is_file():
        return {}, []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"{path}: {exc}"]
    table = data.get("keys", data)
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in table.items():
        if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
            keys = ",".join(keys)
        if not isinstance(keys, str) or not keys.strip():
            problems.append(f"{path}: {binding_id}: expected a key string such as \"ctrl+o\"")
            continue
        keymap[str(binding_id)] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return keymap, problems
