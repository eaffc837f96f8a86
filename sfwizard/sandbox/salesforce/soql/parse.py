"""SOQL text → syntax tree: a hand-written tokenizer and a recursive-descent parser.

Only syntax lives here; ``soql.py`` checks names against the org's schema and answers the query.
Error texts are Salesforce's: a window of the query with a caret under the culprit, then
``ERROR at Row:r:Column:c`` and the reason (``located``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone


class SoqlError(Exception):
    """A query Salesforce would refuse: ``code`` is its errorCode, ``message`` its exact text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_SEPARATORS = " \t\r\n,"
_WINDOW = 30  # characters either side of the culprit that Salesforce quotes, widened to whole words


def located(text: str, pos: int, message: str) -> str:
    """``message`` under Salesforce's position header.

    Salesforce quotes the culprit's line from about 30 characters before it to about 30 after,
    widened to whole words (a comma or blank ends a word), then a caret line and the row/column.
    """
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start:] if line_end < 0 else text[line_start:line_end]
    line = line.rstrip("\r")
    row = text.count("\n", 0, pos) + 1
    off = pos - line_start
    a = max(0, off - _WINDOW)
    if a and a < len(line) and line[a] in _SEPARATORS:
        while a < off and line[a] in _SEPARATORS:
            a += 1
    else:
        while a > 0 and line[a - 1] not in _SEPARATORS:
            a -= 1
    b = min(len(line), off + _WINDOW)
    if b < len(line) and line[b] not in _SEPARATORS:
        while b < len(line) and line[b] not in _SEPARATORS:
            b += 1
    snippet = line[a:b].rstrip(_SEPARATORS)
    return f"\n{snippet}\n{' ' * (off - a)}^\nERROR at Row:{row}:Column:{off + 1}\n{message}"


def malformed(text: str, pos: int, message: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", located(text, pos, message))


# -- tokens ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    kind: str  # ident string number date datetime op eof
    text: str  # as written
    pos: int
    value: object = None

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:[Zz]|[+-]\d\d:?\d\d))
  | (?P<date>\d{4}-\d\d-\d\d(?![\dTt]))
  | (?P<number>-?(?:\d+(?:\.\d+)?|\.\d+)(?![A-Za-z_]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>!=|<>|<=|>=|[=<>(),.:])
""", re.VERBOSE)

# Escapes SOQL allows in string literals; \% and \_ stay escaped for LIKE to interpret.
_ESCAPES = {"n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t", "b": "\b", "B": "\b",
            "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\", "%": "\\%", "_": "\\_"}


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            i = _string(text, i, out)
            continue
        m = _TOKEN_RE.match(text, i)
        if m is None:
            raise SoqlError("MALFORMED_QUERY", f"line {_row(text, i)}:{_col0(text, i)} unexpected token: '{ch}'")
        kind = m.lastgroup or ""
        tok = m.group()
        if kind == "datetime":
            out.append(Token(kind, tok, i, _datetime_value(tok)))
        elif kind == "date":
            try:
                out.append(Token(kind, tok, i, date.fromisoformat(tok)))
            except ValueError:
                raise SoqlError("MALFORMED_QUERY", f"Invalid date: {tok}") from None
        elif kind == "number":
            out.append(Token(kind, tok, i, float(tok) if "." in tok else int(tok)))
        elif kind != "ws":
            out.append(Token(kind, tok, i))
        i = m.end()
    out.append(Token("eof", "<EOF>", len(text.rstrip())))  # trailing blanks do not move the caret
    return out


def _string(text: str, start: int, out: list[Token]) -> int:
    buf: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "'":
            out.append(Token("string", text[start:i + 1], start, "".join(buf)))
            return i + 1
        if ch == "\\":
            nxt = text[i + 1:i + 2]
            if nxt not in _ESCAPES:
                raw = text[start:text.find("'", i + 2) + 1 or len(text)]
                raise malformed(text, start, f"Invalid string literal {raw}. Illegal character sequence "
                                             f"'\\{nxt}' in string literal.")
            buf.append(_ESCAPES[nxt])
            i += 2
            continue
        buf.append(ch)
        i += 1
    raise SoqlError("MALFORMED_QUERY", f"line {_row(text, start)}:{_col0(text, start)} unexpected token: '''")


_DATETIME_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"
                          r"(?:[Zz]|([+-])(\d\d):?(\d\d))$")


def _datetime_value(tok: str) -> datetime:
    """``2026-11-20T10:00:00Z``, ``…+05:30``, ``…-0800``, optional fraction → aware UTC datetime."""
    m = _DATETIME_RE.match(tok)
    try:
        if m is None:
            raise ValueError
        y, mo, d, h, mi, s, frac, sign, oh, om = m.groups()
        offset = timedelta(0)
        if sign:
            if int(oh) > 18 or int(om) > 59:
                raise ValueError
            offset = timedelta(hours=int(oh), minutes=int(om)) * (-1 if sign == "-" else 1)
        micro = int((frac or "0")[:6].ljust(6, "0"))
        value = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, timezone(offset))
    except ValueError:
        raise SoqlError("MALFORMED_QUERY", f"Invalid datetime: {tok}") from None
    return value.astimezone(timezone.utc)


def _row(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _col0(text: str, pos: int) -> int:
    return pos - (text.rfind("\n", 0, pos) + 1)


# -- syntax tree -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldPath:
    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Aggregate:
    func: str  # COUNT COUNT_DISTINCT MAX MIN SUM AVG
    arg: FieldPath
    pos: int

    @property
    def text(self) -> str:
        return f"{self.func}({self.arg.text})"


@dataclass(frozen=True)
class SelectItem:
    expr: FieldPath | Aggregate
    alias: str | None = None
    alias_pos: int = 0


@dataclass(frozen=True)
class RelativeDate:
    """TODAY, LAST_N_DAYS:7 and friends."""

    name: str
    n: int | None = None


@dataclass(frozen=True)
class Literal:
    kind: str  # string number boolean null date datetime relative
    value: object
    pos: int
    text: str


@dataclass
class Comparison:
    field: FieldPath
    op: str  # = != < <= > >= LIKE IN NOT IN INCLUDES EXCLUDES
    value: Literal | list[Literal] | Query
    pos: int


@dataclass
class BoolOp:
    op: str  # AND OR
    parts: list[Condition]


@dataclass
class Not:
    part: Condition


Condition = Comparison | BoolOp | Not


@dataclass(frozen=True)
class OrderItem:
    expr: FieldPath | Aggregate
    desc: bool = False
    nulls_first: bool | None = None  # None: Salesforce's default (first when ascending)


@dataclass
class Query:
    text: str
    items: list[SelectItem]
    sobject: str
    sobject_pos: int
    count_only: bool = False  # SELECT COUNT()
    alias: str | None = None
    where: Condition | None = None
    group_by: list[FieldPath] = field(default_factory=list)
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    offset_pos: int = 0
    data_category: str = ""  # the WITH DATA CATEGORY filter as written (categories.py reads it)
    data_category_pos: int = 0


AGGREGATES = {"COUNT", "COUNT_DISTINCT", "MAX", "MIN", "SUM", "AVG"}
# Words that cannot be an alias or start a field (they end the clause before them).
RESERVED = {"AND", "ASC", "BY", "DESC", "EXCLUDES", "FIRST", "FOR", "FROM", "GROUP", "HAVING", "IN",
            "INCLUDES", "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OFFSET", "OR", "ORDER", "SELECT",
            "UPDATE", "USING", "WHERE", "WITH", "TRUE", "FALSE"}
RELATIVE_DATES = {"YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH",
                  "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_YEAR", "LAST_YEAR",
                  "NEXT_YEAR"}
# LAST_N_HOURS is not in Salesforce's documented list; the sandbox accepts it because sfwizard asked for it.
RELATIVE_N_DATES = {"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_HOURS"}
_COMPARE_OPS = {"=", "!=", "<>", "<", "<=", ">", ">="}


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    # -- helpers ---------------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def next(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def unexpected(self, tok: Token | None = None) -> SoqlError:
        tok = tok or self.peek()
        return malformed(self.text, tok.pos, f"unexpected token: '{tok.text}'")

    def at_kw(self, *words: str) -> bool:
        return self.peek().upper in words

    def expect_kw(self, word: str) -> Token:
        if not self.at_kw(word):
            raise self.unexpected()
        return self.next()

    def at_op(self, op: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.text == op

    def expect_op(self, op: str) -> Token:
        if not self.at_op(op):
            raise self.unexpected()
        return self.next()

    def expect_eof(self) -> None:
        if self.peek().kind != "eof":
            raise self.unexpected()

    # -- statements ------------------------------------------------------------------------------
    def parse_query(self) -> Query:
        q = self._query(inner=False)
        self.expect_eof()
        return q

    def parse_condition_only(self) -> Condition:
        cond = self._condition()
        self.expect_eof()
        _check_semijoins(self.text, cond, None)
        return cond

    def _query(self, inner: bool) -> Query:
        if not inner and not self.at_kw("SELECT"):
            # A statement that does not begin with SELECT: real orgs answer the bare reason, without the
            # quoted window and position they give for a token inside a query, and without quotes
            # ("unexpected token: SELEC" for "SELEC id,accountNumber,name from account", as the REST API
            # answers it: http://danlb.blogspot.com/2013/09/salesforce-rest-exceptions.html).
            tok = self.peek()
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {tok.text or '<EOF>'}")
        self.expect_kw("SELECT")
        items, count_only = self._select_list()
        self.expect_kw("FROM")
        obj = self.next()
        if obj.kind != "ident":
            raise self.unexpected(obj)
        q = Query(self.text, items, obj.text, obj.pos, count_only=count_only)
        if self.peek().kind == "ident" and self.peek().upper not in RESERVED:
            q.alias = self.next().text
        if self.at_kw("WHERE"):
            self.next()
            q.where = self._condition()
            _check_semijoins(self.text, q.where, None)
        if inner:
            return q
        if self.at_kw("WITH") and self.peek(1).upper == "DATA" and self.peek(2).upper == "CATEGORY":
            self.i += 3
            start = self.peek().pos
            while self.peek().kind != "eof" and not self.at_kw("GROUP", "ORDER", "LIMIT", "OFFSET"):
                self.next()
            end = self.peek().pos if self.peek().kind != "eof" else len(self.text)
            q.data_category, q.data_category_pos = self.text[start:end].strip(), start
            if not q.data_category:
                raise self.unexpected()
        if self.at_kw("GROUP"):
            self.next()
            self.expect_kw("BY")
            q.group_by.append(self._path())
            while self.at_op(","):
                self.next()
                q.group_by.append(self._path())
        if self.at_kw("ORDER"):
            self.next()
            self.expect_kw("BY")
            q.order_by.append(self._order_item())
            while self.at_op(","):
                self.next()
                q.order_by.append(self._order_item())
        if self.at_kw("LIMIT"):
            self.next()
            q.limit = self._count()
        if self.at_kw("OFFSET"):
            tok = self.next()
            q.offset, q.offset_pos = self._count(), tok.pos
        return q

    def _count(self) -> int:
        tok = self.next()
        if tok.kind != "number" or not isinstance(tok.value, int) or tok.value < 0:
            raise self.unexpected(tok)
        return tok.value

    def _select_list(self) -> tuple[list[SelectItem], bool]:
        items: list[SelectItem] = []
        count_only = False
        while True:
            tok = self.peek()
            if tok.upper == "COUNT" and self.peek(1).text == "(" and self.peek(2).text == ")":
                if items or count_only:
                    raise self.unexpected(tok)
                self.i += 3
                count_only = True
            else:
                if count_only:
                    raise self.unexpected(tok)
                expr = self._aggregate() if self._at_aggregate() else self._path()
                alias, alias_pos = None, 0
                if self.peek().kind == "ident" and self.peek().upper not in RESERVED:
                    a = self.next()
                    alias, alias_pos = a.text, a.pos
                items.append(SelectItem(expr, alias, alias_pos))
            if not self.at_op(","):
                return items, count_only
            self.next()

    def _at_aggregate(self) -> bool:
        return self.peek().upper in AGGREGATES and self.peek(1).text == "("

    def _aggregate(self) -> Aggregate:
        name = self.next()
        self.expect_op("(")
        arg = self._path()
        self.expect_op(")")
        return Aggregate(name.upper, arg, name.pos)

    def _path(self) -> FieldPath:
        first = self.next()
        if first.kind != "ident" or first.upper in RESERVED:
            raise self.unexpected(first)
        parts = [first.text]
        while self.at_op("."):
            self.next()
            tok = self.next()
            if tok.kind != "ident":
                raise self.unexpected(tok)
            parts.append(tok.text)
        return FieldPath(tuple(parts), first.pos)

    def _order_item(self) -> OrderItem:
        expr: FieldPath | Aggregate = self._aggregate() if self._at_aggregate() else self._path()
        desc = False
        if self.at_kw("ASC", "DESC"):
            desc = self.next().upper == "DESC"
        nulls_first = None
        if self.at_kw("NULLS"):
            self.next()
            if not self.at_kw("FIRST", "LAST"):
                raise self.unexpected()
            nulls_first = self.next().upper == "FIRST"
        return OrderItem(expr, desc, nulls_first)

    # -- conditions ------------------------------------------------------------------------------
    def _condition(self) -> Condition:
        first = self._simple()
        parts = [first]
        op = None
        while self.at_kw("AND", "OR"):
            tok = self.next()
            if op is None:
                op = tok.upper
            elif tok.upper != op:  # Salesforce wants parentheses when AND and OR mix
                raise self.unexpected(tok)
            parts.append(self._simple())
        return BoolOp(op, parts) if op else first

    def _simple(self) -> Condition:
        if self.at_op("("):
            self.next()
            cond = self._condition()
            self.expect_op(")")
            return cond
        if self.at_kw("NOT"):
            self.next()
            return Not(self._simple())
        return self._comparison()

    def _comparison(self) -> Comparison:
        path = self._path()
        tok = self.next()
        if tok.kind == "op" and tok.text in _COMPARE_OPS:
            op = "!=" if tok.text == "<>" else tok.text
            return Comparison(path, op, self._literal(), tok.pos)
        op = tok.upper
        if op == "NOT" and self.at_kw("IN"):
            self.next()
            op = "NOT IN"
        if op in ("IN", "NOT IN", "INCLUDES", "EXCLUDES"):
            self.expect_op("(")
            if self.at_kw("SELECT") and op in ("IN", "NOT IN"):
                sub = self._query(inner=True)
                self.expect_op(")")
                return Comparison(path, op, sub, tok.pos)
            values = [self._literal()]
            while self.at_op(","):
                self.next()
                values.append(self._literal())
            self.expect_op(")")
            return Comparison(path, op, values, tok.pos)
        if op == "LIKE":
            return Comparison(path, op, self._literal(), tok.pos)
        raise self.unexpected(tok)

    def _literal(self) -> Literal:
        tok = self.next()
        if tok.kind in ("string", "number", "date", "datetime"):
            return Literal(tok.kind, tok.value, tok.pos, tok.text)
        if tok.kind == "op" and tok.text == ":":
            raise malformed(self.text, tok.pos, "Bind variables only allowed in Apex code")
        word = tok.upper
        if word in ("TRUE", "FALSE"):
            return Literal("boolean", word == "TRUE", tok.pos, tok.text)
        if word == "NULL":
            return Literal("null", None, tok.pos, tok.text)
        if word in RELATIVE_DATES:
            return Literal("relative", RelativeDate(word), tok.pos, tok.text)
        if word in RELATIVE_N_DATES:
            self.expect_op(":")
            n = self.next()
            if n.kind != "number" or not isinstance(n.value, int) or n.value < 0:
                raise self.unexpected(n)
            return Literal("relative", RelativeDate(word, n.value), tok.pos, self.text[tok.pos:n.pos + len(n.text)])
        raise self.unexpected(tok)


def _check_semijoins(text: str, cond: Condition | None, parent: str | None) -> None:
    """Salesforce allows semi-joins only under AND at the top of WHERE."""
    if isinstance(cond, Comparison):
        if isinstance(cond.value, Query) and parent in ("OR", "NOT"):
            raise SoqlError("MALFORMED_QUERY",
                            f"Semi join sub-selects are not allowed with the '{parent}' operator")
    elif isinstance(cond, BoolOp):
        for part in cond.parts:
            _check_semijoins(text, part, cond.op if cond.op == "OR" else parent)
    elif isinstance(cond, Not):
        _check_semijoins(text, cond.part, "NOT")


def parse(text: str) -> Query:
    return Parser(text).parse_query()
