"""Checks shared by the kiosk screen's and the central console's translation tests: every message
the code marks for translation is in each catalogue, translated (no fuzzy entry, the same
placeholders, every plural form), and each compiled `.mo` says what its `.po` says."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

# What the code calls: Babel's defaults (_, gettext, ngettext, pgettext...) plus Flask-Babel's
# lazy forms, as passed to pybabel extract with -k _l.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# %(name)s, %(num)d, %(value)r, %(low)g and {name}: a translation must keep every one.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdrgf]|\{[a-z_]+\}")


@dataclass(frozen=True)
class Marked:
    """One message as the code marks it: its id, its plural id if any, its context if any."""

    msgid: str
    plural: str | None = None
    context: str | None = None


def marked_messages(root: Path, method_map: list[tuple[str, str]]) -> set[Marked]:
    found: set[Marked] = set()
    for _, _, message, _, context in extract_from_dir(root, method_map, keywords=KEYWORDS):
        if isinstance(message, tuple):
            found.add(Marked(str(message[0]), str(message[1]), context))
        else:
            found.add(Marked(str(message), None, context))
    return found


def method_map(cfg: Path) -> list[tuple[str, str]]:
    """The (pattern, method) pairs of a babel.cfg, read as pybabel extract -F reads them."""
    with cfg.open() as handle:
        pairs, _ = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    return [(str(pattern), str(method)) for pattern, method in pairs]


def read_catalogue(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def translation_problems(catalogue: Catalog, marked: set[Marked]) -> list[str]:
    """Every way the catalogue falls short of `marked`, one line each (empty: complete)."""
    problems: list[str] = []
    for message in sorted(marked, key=lambda m: (m.msgid, m.context or "")):
        entry = catalogue.get(message.msgid, context=message.context)
        where = f"{message.msgid!r}" + (
            f" (context {message.context!r})" if message.context else ""
        )
        if entry is None:
            problems.append(f"not in the catalogue: {where}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {where}")
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if message.plural is not None and len(strings) != catalogue.num_plurals:
            problems.append(f"{len(strings)} plural forms, not {catalogue.num_plurals}: {where}")
        wanted = set(PLACEHOLDER.findall(message.msgid))
        for text in strings:
            if not text:
                problems.append(f"untranslated: {where}")
            elif set(PLACEHOLDER.findall(str(text))) != wanted:
                problems.append(f"placeholders differ in {where}: {text!r}")
    return problems


def _entries(catalogue: Catalog) -> dict[tuple[object, object], object]:
    # read_mo gives a plural message's ids and strings as lists, read_po as tuples.
    def same(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(m.context, same(m.id)): same(m.string) for m in catalogue if m.id}


def compiled_matches_source(po_path: Path) -> bool:
    """The `.mo` next to `po_path` holds exactly the `.po`'s messages and translations."""
    with po_path.open("rb") as handle:
        source = _entries(read_po(handle))
    with po_path.with_suffix(".mo").open("rb") as handle:
        compiled = _entries(read_mo(handle))
    return compiled == source
