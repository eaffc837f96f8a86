"""YAML with positions: safe_load only, duplicate keys refused, and a small schema language whose
errors read ``file:line:column: message`` — for scenario files and mapping snapshots alike.

Hostile files are refused before they cost anything: ``load_file`` reads at most a size cap, nesting deeper
than ``MAX_DEPTH`` and aliases that would expand the document past ``MAX_VALUES`` values (an alias bomb) are
positioned errors, a value that cannot be built (a date like 2024-02-30, a 5,000-digit number) too, and no
error message ever renders more than a short excerpt of a value (``show``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from sfwizard.errors import SfwizardError

MAX_BYTES = 1024 * 1024  # a YAML file sfwizard reads (a snapshot, a scenario): the pure-Python parser reads ~0.2 MB/s
MAX_DEPTH = 64  # nesting levels; sfwizard's own formats use fewer than 10
MAX_VALUES = 250_000  # values once aliases are expanded: no more than a file of MAX_BYTES could hold without them
MAX_MESSAGE = 400  # characters of an error message (a key or value in it is cut short first)


class LDict(dict):
    """A mapping that remembers where it and each of its keys stood in the file."""

    mark: tuple[int, int] = (0, 0)
    key_marks: dict[str, tuple[int, int]]


class LList(list):
    mark: tuple[int, int] = (0, 0)
    item_marks: list[tuple[int, int]]


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Loader(yaml.SafeLoader):
    """SafeLoader, plus: a nesting limit, an alias-expansion budget, and values that fail to build positioned."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Positioned(mark.line + 1, mark.column + 1, f"nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()
        _check_expansion(node)
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:  # a date like 2024-02-30, a number of 5,000 digits
            line, col = _pos(node)
            raise _Positioned(line, col, f"cannot read this value ({_first_line(exc)})") from None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: yaml.Node | None) -> None:
    """Refuse a document whose aliases expand it past MAX_VALUES values, or refer to a node holding them
    (iterative: an alias chain can be longer than Python's recursion limit)."""
    if root is None:
        return
    size: dict[int, int] = {}
    in_progress: set[int] = set()
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, finished = todo.pop()
        key = id(node)
        if finished:
            in_progress.discard(key)
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > MAX_VALUES:
                line, col = _pos(node)
                raise _Positioned(line, col, f"aliases expand this document past {MAX_VALUES:,} values "
                                             "(an alias bomb?): refused")
            size[key] = total
            continue
        if key in size:
            continue
        if key in in_progress:
            line, col = _pos(node)
            raise _Positioned(line, col, "an alias refers to a node that contains it")
        in_progress.add(key)
        todo.append((node, True))
        todo.extend((c, False) for c in _children(node) if id(c) not in size)


def _first_line(exc: BaseException) -> str:
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    return text[:120] + ("…" if len(text) > 120 else "")


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LDict:
    out = LDict()
    out.mark = _pos(node)
    out.key_marks = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            line, col = _pos(key_node)
            raise _Positioned(line, col, "found unhashable key (a list or mapping cannot be a key)") from None
        if key in out:
            line, col = _pos(key_node)
            raise _Positioned(line, col, f"duplicate key {show(key)} (first at line {out.key_marks[key][0]})")
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_marks[key] = _pos(key_node)
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LList:
    out = LList(loader.construct_object(child, deep=True) for child in node.value)
    out.mark = _pos(node)
    out.item_marks = [_pos(child) for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


class _Positioned(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def load_text(text: str, filename: str) -> Any:
    """Parse YAML (safe tags only) into LDict/LList; any error becomes ``file:line:column: message``."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader subclass
    except _Positioned as exc:
        raise SfwizardError(_cut(f"{filename}:{exc.line}:{exc.col}: {exc.message}"), "fix the file and try again") \
            from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise SfwizardError(_cut(f"{filename}:{where}: {problem}"), "fix the YAML syntax and try again") from None
    except yaml.YAMLError as exc:
        raise SfwizardError(_cut(f"{filename}:1:1: {_first_line(exc)}"), "fix the YAML and try again") from None
    except (RecursionError, MemoryError):
        raise SfwizardError(f"{filename}:1:1: too deeply nested or too large to read",
                            "check that this is the file you meant") from None


def load_file(path: str | Path, what: str = "file", limit: int = MAX_BYTES) -> Any:
    """Read ``path`` (at most ``limit`` bytes, UTF-8, a BOM and CRLF line ends accepted) and parse it."""
    from sfwizard.fileio import read_text

    return load_text(read_text(Path(path), limit, what), str(path))


def show(value: Any, room: int = 60) -> str:
    """A value as an error message shows it: a scalar's repr cut to ``room`` characters, a collection by its
    kind and size (never rendered whole: it may be an alias bomb's expansion)."""
    if isinstance(value, str):
        return repr(value) if len(value) <= room else f"{value[:room]!r}… ({len(value):,} characters)"
    if isinstance(value, dict):
        return f"a mapping of {len(value):,} keys"
    if isinstance(value, (list, tuple, set)):
        return f"a list of {len(value):,} items"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** room:
        return f"a number of more than {room} digits"
    text = repr(value)
    return text if len(text) <= room else text[:room] + "…"


def _cut(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"


# -- schema --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Where:
    filename: str
    line: int
    col: int
    path: str
    now: datetime | None = None  # what relative times count from; one value for the whole document

    def error(self, message: str) -> SfwizardError:
        where = f"{self.path}: " if self.path else ""  # the document itself has no path to name
        return SfwizardError(_cut(f"{self.filename}:{self.line}:{self.col}: {where}{message}"),
                             "fix the file and try again")

    def at_key(self, parent: Any, key: str) -> Where:
        line, col = getattr(parent, "key_marks", {}).get(key, (self.line, self.col))
        return Where(self.filename, line, col, f"{self.path}.{key}" if self.path else str(key), self.now)

    def at_item(self, parent: Any, i: int) -> Where:
        marks = getattr(parent, "item_marks", [])
        line, col = marks[i] if i < len(marks) else (self.line, self.col)
        return Where(self.filename, line, col, f"{self.path}[{i}]", self.now)


class Spec:
    name = "value"

    def check(self, value: Any, where: Where) -> Any:
        raise NotImplementedError


@dataclass
class Scalar(Spec):
    types: tuple[type, ...]
    name: str = "value"
    test: Callable[[Any], bool] | None = None
    hint: str = ""

    def check(self, value: Any, where: Where) -> Any:
        if isinstance(value, bool) and bool not in self.types:
            raise where.error(f"expected {self.name}, got a boolean")
        if not isinstance(value, self.types):
            raise where.error(f"expected {self.name}, got {_kind(value)}")
        if self.test is not None and not self.test(value):
            raise where.error(self.hint or f"not a valid {self.name}: {show(value)}")
        return value


def Str() -> Scalar:
    return Scalar((str,), "a string")


def Int(minimum: int | None = None) -> Scalar:
    return Scalar((int,), "an integer", (lambda v: v >= minimum) if minimum is not None else None,
                  f"must be at least {minimum}")


def Float(lo: float | None = None, hi: float | None = None) -> Scalar:
    def test(v: Any) -> bool:
        return (lo is None or v >= lo) and (hi is None or v <= hi)
    bounds = [f"at least {lo}"] * (lo is not None) + [f"at most {hi}"] * (hi is not None)
    return Scalar((int, float), "a number", test, f"must be {' and '.join(bounds)}")


def Bool() -> Scalar:
    return Scalar((bool,), "true or false")


@dataclass
class Enum(Spec):
    values: tuple[str, ...]

    def check(self, value: Any, where: Where) -> Any:
        if value not in self.values:
            raise where.error(f"expected one of {', '.join(map(str, self.values))}; got {show(value)}")
        return value


@dataclass
class ListOf(Spec):
    item: Spec

    def check(self, value: Any, where: Where) -> Any:
        if not isinstance(value, list):
            raise where.error(f"expected a list, got {_kind(value)}")
        return [self.item.check(v, where.at_item(value, i)) for i, v in enumerate(value)]


@dataclass
class MapOf(Spec):
    value: Spec

    def check(self, value: Any, where: Where) -> Any:
        if not isinstance(value, dict):
            raise where.error(f"expected a mapping, got {_kind(value)}")
        return {str(k): self.value.check(v, where.at_key(value, k)) for k, v in value.items()}


@dataclass
class Obj(Spec):
    """A mapping with known keys; unknown keys are errors, ``required`` keys must be there."""

    fields: dict[str, Spec]
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)

    def check(self, value: Any, where: Where) -> Any:
        if not isinstance(value, dict):
            raise where.error(f"expected a mapping, got {_kind(value)}")
        for key in value:
            if key not in self.fields:
                raise where.at_key(value, key).error(
                    f"unknown key {show(key)} (expected one of: {', '.join(self.fields)})")
        for key in self.required:
            if key not in value:
                raise where.error(f"missing required key {key!r}")
        out = dict(self.defaults)
        for key, spec in self.fields.items():
            if key in value:
                out[key] = None if value[key] is None and isinstance(spec, Optional) else \
                    spec.check(value[key], where.at_key(value, key))
        return out


@dataclass
class Optional(Spec):
    inner: Spec

    def check(self, value: Any, where: Where) -> Any:
        return None if value is None else self.inner.check(value, where)


@dataclass
class OneOf(Spec):
    """The first alternative that accepts the value; otherwise the last alternative's error."""

    options: tuple[Spec, ...]

    def check(self, value: Any, where: Where) -> Any:
        last: SfwizardError | None = None
        for spec in self.options:
            try:
                return spec.check(value, where)
            except SfwizardError as exc:
                last = exc
        assert last is not None
        raise last


class AnyValue(Spec):
    def check(self, value: Any, where: Where) -> Any:
        return value


_REL = re.compile(r"^\s*(now|[-+]?\d+(?:\.\d+)?\s*[smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class RelTime(Spec):
    """``now``, ``-3d``, ``-2h``, ``-30m``, ``+1w`` (relative to load time) or an ISO-8601 datetime.

    Counts from ``validate(..., now=)`` so every time in one document agrees; ``now`` here pins it.
    """

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def check(self, value: Any, where: Where) -> Any:
        now = self.now or where.now or datetime.now(timezone.utc)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        if not isinstance(value, str):
            raise where.error(f"expected a time like -3d, -2h, now or an ISO datetime; got {_kind(value)}")
        m = _REL.match(value)
        if m:
            text = m.group(1)
            if text == "now":
                return now
            number, unit = float(text[:-1]), text[-1]
            return now + timedelta(**{_UNITS[unit]: number})
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise where.error(f"not a time: {show(value)} (use -3d, -2h, -30m, now or an ISO datetime)") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def validate(data: Any, spec: Spec, filename: str, now: datetime | None = None) -> Any:
    """Check ``data`` (from ``load_text``) against ``spec``; the first problem raises a positioned error."""
    mark = getattr(data, "mark", (1, 1))
    return spec.check(data, Where(filename, mark[0], mark[1], "", now or datetime.now(timezone.utc)))


def kind_of(value: Any) -> str:
    """What a value is, in the words an error message uses ("a list", "the string 'x'")."""
    return _kind(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"the string {show(value)}"
    return {dict: "a mapping", LDict: "a mapping", list: "a list", LList: "a list",
            bool: "a boolean", int: "a number", float: "a number"}.get(type(value), type(value).__name__)
