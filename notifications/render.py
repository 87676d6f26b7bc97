"""Rendering: one Jinja2 environment per language, administrator overrides first.

An administrator's copy of a template (in the override directory) is rendered in an
`ImmutableSandboxedEnvironment`: a language with any override renders all its templates there,
since a packaged template may extend or include an administrator's one. A language without
overrides renders the packaged templates, which are nckh's own code, in a plain environment (the
sandbox's checks cost about a quarter of the rendering). Overrides are found when the renderer
is built, that is when the daemon or a command starts. Every template gets `StrictUndefined` and
plain data only (dicts, lists, strings, numbers, dates): never ORM objects, whose attributes
would reach the database.
HTML is autoescaped by file extension (`.html`); `.txt` and subjects are not escaped
(`default_for_string=False`, pallets/jinja#1890). A template error becomes a `TemplateProblem`
naming the file and line; `check()` renders every template against sample data so a broken one
is found by `nckh mail check` and at daemon start, never at send time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifications.catalog import LANGS, Catalog
from workflows.errors import InputError

PACKAGED_TEMPLATES = Path(__file__).parent / "templates"
PARTS = ("subject.txt", "txt", "html")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


class TemplateProblem(InputError):
    """A template that does not parse or does not render (file and line in the message)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    raise TypeError(f"not a date: {value!r}")


def vi_date(value: Any) -> str:
    """`ngày 05 tháng 3 năm 2025`: two-digit day, and a leading zero for January and February."""
    d = _as_date(value)
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def vi_short_date(value: Any) -> str:
    d = _as_date(value)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def en_date(value: Any) -> str:
    d = _as_date(value)
    return f"{d.day} {EN_MONTHS[d.month - 1]} {d.year}"


def oneline(value: Any) -> str:
    return " ".join(str(value).split())


def lower_first(value: Any) -> str:
    """A label inside a sentence: its first letter lowered, unless its first word is an
    abbreviation ("KH&CN", "PI"), which keeps its capitals — `|lower` wrote "khcn"."""
    text = oneline(value)
    first = text.split(" ", 1)[0]
    if sum(ch.isupper() for ch in first) > 1:
        return text
    return text[:1].lower() + text[1:]


SUBJECT_TITLE = 70  # characters of a topic's title in a subject line


def short(value: Any, length: int = SUBJECT_TITLE) -> str:
    """A title cut for a subject line: whole words, an ellipsis when something was cut."""
    text = oneline(value)
    if len(text) <= length:
        return text
    cut = text[:length - 1]
    if " " in cut and not text[length - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.–-") + "…"


def en_days(value: Any) -> str:
    """"1 day", "2 days": English counts days in the plural only above one."""
    n = int(value)
    return f"{n} day" if abs(n) == 1 else f"{n} days"


PLAIN = (str, int, float, bool, type(None), dt.date)
_LEAVES = frozenset((*PLAIN, dt.datetime))  # exact types: a set lookup, no isinstance


def ensure_plain(value: Any, where: str = "context") -> None:
    """Refuse anything but plain data in a template context (the sandbox's other half)."""
    if type(value) in _LEAVES:  # the common case, without an isinstance against an ABC
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if type(item) not in _LEAVES:  # the path string is built only where it may be needed
                ensure_plain(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if type(item) not in _LEAVES:
                ensure_plain(item, f"{where}[{i}]")
    elif not isinstance(value, PLAIN):
        raise TypeError(f"{where}: {type(value).__name__} is not plain data")


def _where(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"{exc.filename or exc.name}:{exc.lineno}"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".txt", ".html")):
            return f"{frame.filename}:{frame.lineno}"
    return "template"


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """`a.b` on a plain dict without raising an AttributeError first.

    Jinja looks `b` up as an attribute, then as an item. In a context of plain dicts (the rule
    here) every such lookup fails the first way, and the exception raised and caught cost a
    fifth of the rendering. The answer is the same: only exact dicts, only names that are not
    attributes of a dict (`x.items` is still the method), and a missing key gives the same
    undefined. The sandbox's checks (its own `getattr`) still see every other lookup.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class _Sandbox(_Environment, ImmutableSandboxedEnvironment):
    """The sandbox, with the same lookup of plain dict items."""


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process. Jinja keys each by name and file
    and checks the source's checksum on load, so an edited or overriding template is compiled
    anew. Every `Renderer` compiled all ~100 templates again (its start-up check renders each
    kind), about 1.5 s per app built: a test suite builds hundreds. The web app's pages keep
    theirs the same way (engine.web.app)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


# One per environment class: the sandbox compiles calls differently (`environment.call`).
_COMPILED: dict[type[jinja2.Environment], CompiledTemplates] = {}
# The problems of each template check made in this process, by fingerprint (Renderer.check).
_CHECKED: dict[str, tuple[str, ...]] = {}


class Renderer:
    def __init__(self, catalog: Catalog, override_dir: Path | None = None) -> None:
        self.catalog = catalog
        self.override_dir = override_dir
        self._envs = {lang: self._env(lang) for lang in LANGS}

    def _overrides(self, lang: str) -> Path | None:
        """The administrator's folder for `lang`, if it holds any template."""
        folder = self.override_dir / lang if self.override_dir is not None else None
        if folder is not None and folder.is_dir() and any(
                p.suffix in (".txt", ".html") for p in folder.iterdir()):
            return folder
        return None

    def overridden(self, lang: str) -> bool:
        return self._overrides(lang) is not None

    def _env(self, lang: str) -> jinja2.Environment:
        loaders: list[jinja2.BaseLoader] = [FileSystemLoader(str(PACKAGED_TEMPLATES / lang))]
        kind: type[jinja2.Environment] = _Environment
        if (folder := self._overrides(lang)) is not None:
            loaders.insert(0, FileSystemLoader(str(folder)))
            kind = _Sandbox
        env = kind(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
            # Every template stays loaded (a few dozen files): a plain dict, where the default
            # LRU cache reorders a deque on each of the ~10 lookups a message makes.
            cache_size=-1,
            bytecode_cache=_COMPILED.setdefault(kind, CompiledTemplates()),
        )
        env.filters.update(ngay=vi_date, ngay_ngan=vi_short_date, en_date=en_date,
                           oneline=oneline, lowerfirst=lower_first, short=short,
                           en_days=en_days)
        return env

    def render(self, kind: str, lang: str, context: Mapping[str, Any]) -> Rendered:
        self.catalog.kind(kind)
        if lang not in self._envs:
            raise InputError(f"unknown language '{lang}' (expected {' or '.join(LANGS)})")
        ensure_plain(context)
        env = self._envs[lang]
        out: list[str] = []
        for part in PARTS:
            name = f"{kind}.{part}"
            try:
                out.append(env.get_template(name).render(context))  # render() copies it
            except jinja2.TemplateNotFound as exc:
                raise TemplateProblem(f"{lang}/{name}: template not found "
                                      f"({exc.name})") from None
            except jinja2.TemplateError as exc:
                message = " ".join(str(exc.message or exc).split())
                raise TemplateProblem(f"{_where(exc)}: {message} "
                                      f"(rendering {lang}/{name})") from None
            except (TypeError, ValueError, LookupError, ArithmeticError) as exc:
                # A filter or an expression failed on the data (a missing date, a bad value):
                # the same kind of problem, and it must not escape the dispatcher as a crash.
                raise TemplateProblem(f"{_where(exc)}: {exc} (rendering {lang}/{name})") from None
        subject = oneline(out[0])
        if not subject:
            raise TemplateProblem(f"{lang}/{kind}.subject.txt: renders an empty subject")
        return Rendered(subject, _tidy_text(out[1]), out[2])

    def check(self, samples: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[str]:
        """Render every kind in every language against sample contexts; return the problems.

        The answer is kept for the process, keyed by everything it depends on (the kinds, the
        samples, each template file's name, size and modification time): every app a process
        builds (a test, the web app beside the daemon) checks at its first pass, and rendering
        every kind twice costs about a second."""
        key = self._fingerprint(samples)
        if (known := _CHECKED.get(key)) is not None:
            return list(known)
        problems = self._check(samples)
        _CHECKED[key] = tuple(problems)
        return problems

    def _fingerprint(self, samples: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
        digest = hashlib.sha256(repr((sorted(self.catalog.kinds.items()), self.catalog.words,
                                      sorted(samples.items()))).encode())
        for lang in LANGS:
            for folder in (PACKAGED_TEMPLATES / lang, self._overrides(lang)):
                if folder is None:
                    continue
                for path in sorted(folder.iterdir()):
                    stat = path.stat()
                    digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def _check(self, samples: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[str]:
        problems: list[str] = []
        for kind in sorted(self.catalog.kinds):
            for lang in LANGS:
                for sample in samples[kind]:
                    try:
                        self.render(kind, lang, {**sample, "lang": lang})
                    except InputError as exc:
                        if str(exc) not in problems:
                            problems.append(str(exc))
        return problems


_BLANKS = re.compile(r"\n{3,}")


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)) + "\n"
