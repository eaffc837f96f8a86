"""Formula fields: a formula's text parsed once, checked against its object's fields, and computed per record.

Salesforce computes a formula field whenever the record is read; it is never written (describe says
``calculated: true``, ``calculatedFormula``, neither ``createable`` nor ``updateable``; a write answers
INVALID_FIELD_FOR_INSERT_UPDATE). The sandbox computes it when a record is stored or changed, which reads the
same for a client. What is understood — the common part of Salesforce's formula language (Formula Operators and
Functions, Salesforce Help): literals (numbers, 'text' or "text", TRUE, FALSE, NULL), fields of the same object
(case-insensitive API names), ``+ - * / ^``, ``&`` (text), ``= == != <> < <= > >=``, ``&& ||``, parentheses, and
IF, CASE, AND, OR, NOT, ISBLANK, ISNULL, BLANKVALUE, NULLVALUE, TEXT, VALUE, LEN, UPPER, LOWER, LEFT, RIGHT,
MID, TRIM, CONTAINS, BEGINS, ISPICKVAL, ROUND, ABS, FLOOR, CEILING, MAX, MIN, MOD, TODAY, NOW. A cross-object
reference (``Account.Name``) is what Salesforce allows and this sandbox does not: it is refused, saying so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any


class FormulaError(ValueError):
    """A formula Salesforce's editor would refuse (or this sandbox cannot compute), with the column it is at."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column  # 0-based offset in the formula's text


_TOKEN = re.compile(r"""\s*(?:
    (?P<num>\d+(?:\.\d*)?|\.\d+) |
    (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*") |
    (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) |
    (?P<op>&&|\|\||==|!=|<>|<=|>=|[-+*/^&=<>(),])
)""", re.X)

# name → (fewest arguments, most arguments or None)
_ARITY: dict[str, tuple[int, int | None]] = {
    "IF": (3, 3), "CASE": (4, None), "AND": (1, None), "OR": (1, None), "NOT": (1, 1), "ISBLANK": (1, 1),
    "ISNULL": (1, 1), "BLANKVALUE": (2, 2), "NULLVALUE": (2, 2), "TEXT": (1, 1), "VALUE": (1, 1), "LEN": (1, 1),
    "UPPER": (1, 1), "LOWER": (1, 1), "LEFT": (2, 2), "RIGHT": (2, 2), "MID": (3, 3), "TRIM": (1, 1),
    "CONTAINS": (2, 2), "BEGINS": (2, 2), "ISPICKVAL": (2, 2), "ROUND": (2, 2), "ABS": (1, 1), "FLOOR": (1, 1),
    "CEILING": (1, 1), "MAX": (1, None), "MIN": (1, None), "MOD": (2, 2), "TODAY": (0, 0), "NOW": (0, 0),
}


@dataclass(frozen=True)
class _Node:
    kind: str  # num, str, bool, null, field, op, neg, call
    value: Any = None
    args: tuple[_Node, ...] = ()
    at: int = 0


class Formula:
    """A parsed formula: ``fields`` are the (canonical) field names it reads; ``compute(record)`` its value."""

    def __init__(self, text: str, fields: Mapping[str, str]) -> None:
        """``fields``: lower-case API name → canonical name, the object's fields a formula may read."""
        self.text = text
        self._fields = fields
        self._tokens = [(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)) for m in _tokens(text)]
        self._pos = 0
        self.fields: set[str] = set()
        self._root = self._expr()
        if self._pos < len(self._tokens):
            raise FormulaError(f"Syntax error. Extra {self._tokens[self._pos][1]}", self._tokens[self._pos][2])

    # -- parsing (precedence climbing) ---------------------------------------------------------------
    _LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), ("=", "==", "!=", "<>", "<", "<=", ">", ">="),
                                            ("+", "-", "&"), ("*", "/"), ("^",))

    def _peek(self) -> tuple[str, str, int] | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _expr(self, level: int = 0) -> _Node:
        if level == len(self._LEVELS):
            return self._unary()
        left = self._expr(level + 1)
        while (tok := self._peek()) and tok[0] == "op" and tok[1] in self._LEVELS[level]:
            self._pos += 1
            right = self._expr(level + 1)
            left = _Node("op", tok[1], (left, right), tok[2])
        return left

    def _unary(self) -> _Node:
        tok = self._peek()
        if tok and tok[0] == "op" and tok[1] in "+-" and len(tok[1]) == 1:
            self._pos += 1
            inner = self._unary()
            return _Node("neg", None, (inner,), tok[2]) if tok[1] == "-" else inner
        return self._atom()

    def _atom(self) -> _Node:
        tok = self._peek()
        if tok is None:
            raise FormulaError("Syntax error. Missing operand at the end", len(self.text))
        kind, text, at = tok
        self._pos += 1
        if kind == "num":
            return _Node("num", Decimal(text), at=at)
        if kind == "str":
            return _Node("str", re.sub(r"\\(.)", r"\1", text[1:-1]), at=at)
        if kind == "op" and text == "(":
            inner = self._expr()
            self._expect(")")
            return inner
        if kind != "name":
            raise FormulaError(f"Syntax error. Found '{text}'", at)
        upper = text.upper()
        if upper in ("TRUE", "FALSE"):
            return _Node("bool", upper == "TRUE", at=at)
        if upper == "NULL":
            return _Node("null", at=at)
        nxt = self._peek()
        if nxt and nxt[1] == "(":
            return self._call(upper, at)
        if "." in text:
            raise FormulaError(f"Field {text} is a cross-object reference: Salesforce allows it, this sandbox "
                               "computes fields of the same object only", at)
        canonical = self._fields.get(text.lower())
        if canonical is None:
            raise FormulaError(f"Field {text} does not exist. Check spelling.", at)
        self.fields.add(canonical)
        return _Node("field", canonical, at=at)

    def _call(self, name: str, at: int) -> _Node:
        if name not in _ARITY:
            raise FormulaError(f"Unknown function {name}. Check spelling.", at)
        self._expect("(")
        args: list[_Node] = []
        if (tok := self._peek()) and tok[1] == ")":
            self._pos += 1
        else:
            while True:
                args.append(self._expr())
                tok = self._peek()
                if tok and tok[1] == ",":
                    self._pos += 1
                    continue
                self._expect(")")
                break
        least, most = _ARITY[name]
        if len(args) < least or (most is not None and len(args) > most):
            want = str(least) if least == most else f"{least} or more" if most is None else f"{least} to {most}"
            raise FormulaError(f"Incorrect number of parameters for function '{name}()'. Expected {want}, "
                               f"received {len(args)}", at)
        return _Node("call", name, tuple(args), at)

    def _expect(self, op: str) -> None:
        tok = self._peek()
        if tok is None or tok[1] != op:
            where = tok[2] if tok else len(self.text)
            raise FormulaError(f"Syntax error. Missing '{op}'", where)
        self._pos += 1

    # -- computing ---------------------------------------------------------------------------------------
    def compute(self, record: Mapping[str, Any], now: datetime | None = None) -> Any:
        """The formula's value for ``record`` (None where Salesforce's would be blank; an error is blank too,
        as Salesforce shows #Error! only on the page)."""
        try:
            return _eval(self._root, record, now or datetime.now(timezone.utc))
        except (ArithmeticError, ValueError, TypeError):
            return None


def _tokens(text: str) -> list[re.Match[str]]:
    out, pos = [], 0
    while text[pos:].strip():
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = len(text) - len(text[pos:].lstrip())
            raise FormulaError(f"Syntax error. Found '{text[bad]}'", bad)
        out.append(m)
        pos = m.end()
    return out


def _num(v: Any) -> Decimal | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise TypeError("a checkbox is not a number")
    return v if isinstance(v, Decimal) else Decimal(str(v))


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v == v.to_integral() else format(v, "f")
    if isinstance(v, float):
        return _text(Decimal(str(v)))
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _blank(v: Any) -> bool:
    return v is None or v == ""


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _eval(n: _Node, rec: Mapping[str, Any], now: datetime) -> Any:
    if n.kind in ("num", "str", "bool"):
        return n.value
    if n.kind == "null":
        return None
    if n.kind == "field":
        v = rec.get(n.value)
        return Decimal(str(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
    if n.kind == "neg":
        v = _num(_eval(n.args[0], rec, now))
        return None if v is None else -v
    if n.kind == "op":
        return _op(n.value, _eval(n.args[0], rec, now), _eval(n.args[1], rec, now))
    return _call(n, rec, now)


def _op(op: str, a: Any, b: Any) -> Any:
    if op == "&":
        return _text(a) + _text(b)
    if op in ("&&", "||"):
        return (bool(a) and bool(b)) if op == "&&" else (bool(a) or bool(b))
    if op in _COMPARE:
        if isinstance(a, (int, float, Decimal)) and not isinstance(a, bool) or \
                isinstance(b, (int, float, Decimal)) and not isinstance(b, bool):
            a, b = _num(a), _num(b)
            if a is None or b is None:
                return op in ("!=", "<>") and (a is None) != (b is None)
        return _COMPARE[op](a, b)
    if op == "+" and isinstance(a, (date, datetime)):
        d = _num(b)
        return None if d is None else a + _days(d)
    if op == "-" and isinstance(a, (date, datetime)) and isinstance(b, (date, datetime)):
        delta = a - b
        return Decimal(delta.days) if type(a) is date else Decimal(str(delta.total_seconds() / 86400))
    if op == "-" and isinstance(a, (date, datetime)):
        d = _num(b)
        return None if d is None else a - _days(d)
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return None
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        return x / y
    return Decimal(str(float(x) ** float(y)))


def _days(d: Decimal) -> Any:
    from datetime import timedelta

    return timedelta(days=float(d))


def _call(n: _Node, rec: Mapping[str, Any], now: datetime) -> Any:
    name = n.value

    def arg(i: int) -> Any:
        return _eval(n.args[i], rec, now)

    if name == "IF":
        return arg(1) if arg(0) else arg(2)
    if name == "CASE":
        value = arg(0)
        pairs = n.args[1:-1] if len(n.args) % 2 == 0 else n.args[1:]
        for i in range(0, len(pairs) - 1, 2):
            if _eval(pairs[i], rec, now) == value:
                return _eval(pairs[i + 1], rec, now)
        return _eval(n.args[-1], rec, now) if len(n.args) % 2 == 0 else None
    if name in ("AND", "OR"):
        values = [bool(_eval(a, rec, now)) for a in n.args]
        return all(values) if name == "AND" else any(values)
    if name == "NOT":
        return not arg(0)
    if name in ("ISBLANK", "ISNULL"):
        return _blank(arg(0))
    if name in ("BLANKVALUE", "NULLVALUE"):
        v = arg(0)
        return arg(1) if _blank(v) else v
    if name == "TEXT":
        return _text(arg(0))
    if name == "VALUE":
        return _num(str(arg(0)).strip())
    if name == "LEN":
        return Decimal(len(_text(arg(0))))
    if name in ("UPPER", "LOWER", "TRIM"):
        s = _text(arg(0))
        return s.upper() if name == "UPPER" else s.lower() if name == "LOWER" else s.strip()
    if name in ("LEFT", "RIGHT"):
        s, k = _text(arg(0)), int(_num(arg(1)) or 0)
        return s[:max(k, 0)] if name == "LEFT" else (s[-k:] if k > 0 else "")
    if name == "MID":
        s, start, k = _text(arg(0)), int(_num(arg(1)) or 1), int(_num(arg(2)) or 0)
        return s[max(start - 1, 0):max(start - 1, 0) + max(k, 0)]
    if name in ("CONTAINS", "BEGINS"):
        s, part = _text(arg(0)), _text(arg(1))
        return part in s if name == "CONTAINS" else s.startswith(part)
    if name == "ISPICKVAL":
        return _text(arg(0)) == _text(arg(1))
    if name in ("ROUND", "ABS", "FLOOR", "CEILING", "MOD"):
        x = _num(arg(0))
        if x is None:
            return None
        if name == "ROUND":
            places = int(_num(arg(1)) or 0)
            return x.quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")
        if name == "MOD":
            y = _num(arg(1))
            return None if y is None else x % y
        return abs(x) if name == "ABS" else Decimal(math.floor(x) if name == "FLOOR" else math.ceil(x))
    if name in ("MAX", "MIN"):
        values = [v for v in (_num(_eval(a, rec, now)) for a in n.args) if v is not None]
        return (max(values) if name == "MAX" else min(values)) if values else None
    if name == "TODAY":
        return now.date()
    return now  # NOW


def stored(value: Any, type_: str) -> Any:
    """A computed value as the record keeps it for a field of ``type_`` (the formula's return type)."""
    if value is None:
        return None
    if type_ == "boolean":
        return bool(value)
    if type_ in ("double", "currency", "percent"):
        return float(_num(value)) if not isinstance(value, (date, str)) else None
    if type_ == "int":
        n = _num(value) if not isinstance(value, (date, str)) else None
        return None if n is None else int(n)
    if type_ == "date":
        return value.date() if isinstance(value, datetime) else value if isinstance(value, date) else None
    if type_ == "datetime":
        return value if isinstance(value, datetime) else None
    return _text(value)
