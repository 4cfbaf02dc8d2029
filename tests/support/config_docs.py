"""The README's configuration tables, generated from the pydantic models' own descriptions.

    python -m tests.support.config_docs --write    # after changing a setting

tests/test_readme.py fails when README.md differs from what this generates.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from central.config import ENV_NAMES, ENV_PREFIX, CentralConfig
from edge_agent.kiosk_config import KioskConfig

README = Path(__file__).resolve().parents[2] / "README.md"
MARKERS = {"central": CentralConfig, "kiosk": KioskConfig}


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if hasattr(value, "to_url"):
        value = value.to_url()
    if isinstance(value, BaseModel):
        value = getattr(value, "type", "(table)")
    text = "(empty)" if value in ("", None) else str(value)
    return text.replace("|", "\\|")


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_union_of_models(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin not in (Union, UnionType):
        return False
    return any(_submodel(arg) for arg in get_args(annotation))


def kiosk_rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        sub = _submodel(field.annotation)
        if sub is not None:
            rows += kiosk_rows(sub, f"{prefix}{name}.")
            continue
        kind = " (a table chosen by its `type`)" if _is_union_of_models(field.annotation) else ""
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name}` | `{_default(field)}` | {description}{kind} |")
    return rows


def central_rows() -> list[str]:
    return [
        f"| `{ENV_PREFIX}{ENV_NAMES[name]}` | `{_default(field)}` | {field.description} |"
        for name, field in CentralConfig.model_fields.items()
    ]


def tables() -> dict[str, str]:
    central = ["| variable | default | meaning |", "|---|---|---|", *central_rows()]
    kiosk = ["| key | default | meaning |", "|---|---|---|", *kiosk_rows(KioskConfig)]
    return {"central": "\n".join(central), "kiosk": "\n".join(kiosk)}


def _filler(table: str) -> Callable[[re.Match[str]], str]:
    def fill(match: re.Match[str]) -> str:
        return match.group(1) + table + "\n" + match.group(2)

    return fill


def render(readme: str) -> str:
    for key, table in tables().items():
        pattern = re.compile(
            rf"(<!-- config:{key}:start -->\n)(?:.*?\n)?(<!-- config:{key}:end -->)", re.DOTALL
        )
        if not pattern.search(readme):
            raise ValueError(f"README.md has no <!-- config:{key}:start/end --> markers")
        readme = pattern.sub(_filler(table), readme)
    return readme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite README.md")
    args = parser.parse_args()
    rendered = render(README.read_text())
    if args.write:
        README.write_text(rendered)
    else:
        print(rendered)


if __name__ == "__main__":
    main()
