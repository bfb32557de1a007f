"""The run search language (MLflow's filter and order_by strings), parsed by hand.

Grammar, as MLflow users know it::

    filter     := comparison ( AND comparison )*          -- AND in any case; no OR/NOT/()
    comparison := identifier op value                     -- op: = != < <= > >= LIKE ILIKE
                | identifier IS [NOT] NULL
                | identifier [NOT] IN '(' string ( ',' string )* ')'
    identifier := [ entity '.' ] key                      -- a bare key is an attribute
    entity     := metric(s) | param(s) | parameter(s) | tag(s) | attribute(s) | attr | run
    key        := word ( '.' word )* | "quoted" | `quoted`     -- word: letters, digits, _
    value      := number | 'string' | "string"           -- a quote inside is doubled: 'it''s'
    order_by   := identifier [ ASC | DESC ]

Why a hand-written scanner and not a tokenizer library: the same character means
different things by position (``"f1 score"`` is a key on the left and a string on the
right; ``model.depth`` after ``params.`` is one key), and every error must point at the
character where the filter went wrong. The result is plain data (``Comparison``,
``OrderKey``) that ``query.py`` turns into bound SQL parameters — user text never
becomes SQL text. Positions in messages count from 1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gannet.core.errors import InvalidArgument
from gannet.tracking.grammars import (
    ATTRIBUTE_ALIASES,
    ATTRIBUTES,
    RUNS,
    AttributeSpec,
    Grammar,
)
from gannet.tracking.types import Comparison, OrderKey

__all__ = [
    "ATTRIBUTES", "ATTRIBUTE_ALIASES", "RUNS", "AttributeSpec", "Grammar", "canonical_attribute",
    "parse_filter", "parse_order_by",
]

NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
LIST_OPS = ("IN", "NOT IN")
NULL_OPS = ("IS NULL", "IS NOT NULL")

ENTITY_ALIASES = {
    "metric": "metric", "metrics": "metric",
    "param": "param", "params": "param", "parameter": "param", "parameters": "param",
    "tag": "tag", "tags": "tag",
    "attribute": "attribute", "attributes": "attribute", "attr": "attribute", "run": "attribute",
}

_WORD = re.compile(r"[^\W\d]\w*")  # letters (any script), digits and _, not first a digit
_BARE_KEY = re.compile(r"\w+(?:\.\w+)*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_SYMBOL_OP = re.compile(r"!=|<>|==|<=|>=|<|>|=|!")
_TOKEN_END = re.compile(r"[^\s(),]*")
_QUOTE_HINT = "write a quote inside a string twice, e.g. 'it''s'"
_ENTITY_HINT = (
    "name a metric, param or tag as metrics.<key>, params.<key> or tags.<key>; a bare name "
    "is a run attribute; quote keys with other characters: metrics.`train/loss`"
)
_OR_HINT = (
    "comparisons can only be joined with AND: run one search per alternative, or use "
    "IN ('a', 'b') for several values of one attribute"
)


@dataclass(frozen=True)
class _Rule:
    """What may follow one identifier: its comparators, value kind, and how to say so."""

    ops: tuple[str, ...]
    numeric: bool
    hint: str


def _rule_for(entity: str, key: str, grammar: Grammar) -> _Rule:
    """The comparators and value kind ``entity.key`` accepts (key already canonical)."""
    if entity == "metric":
        return _Rule(NUMERIC_OPS, True, "metrics take =, !=, <, <=, >, >= and a number, "
                     "e.g. metrics.acc > 0.9")
    if entity in ("param", "tag"):
        plural = f"{entity}s"
        return _Rule(STRING_OPS + NULL_OPS, False,
                     f"{plural} take =, !=, LIKE, ILIKE and a quoted string, or IS [NOT] NULL, "
                     f"e.g. {plural}.model = 'cnn' or {plural}.model IS NULL")
    spec = grammar.attributes[key]
    nulls = NULL_OPS if spec.nullable else ()
    or_null = " or IS [NOT] NULL" if spec.nullable else ""
    if spec.numeric:
        return _Rule(NUMERIC_OPS + nulls, True,
                     f"{key} takes =, !=, <, <=, >, >= and a number (milliseconds since the "
                     f"epoch){or_null}, e.g. attributes.{key} > 1700000000000")
    return _Rule(STRING_OPS + LIST_OPS + nulls, False,
                 f"{key} takes =, !=, LIKE, ILIKE and a quoted string, or IN / NOT IN and a "
                 f"list of them{or_null}, e.g. attributes.{key} IN ('a', 'b')")


def canonical_attribute(name: str) -> str | None:
    """The canonical run attribute a user's spelling means, or None when there is none."""
    return RUNS.canonical(name)


class _Scanner:
    """A cursor over one filter or order_by string; reads by position, fails precisely."""

    def __init__(self, text: str, what: str, grammar: Grammar = RUNS) -> None:
        self.text = text
        self.what = what
        self.grammar = grammar
        self.pos = 0

    # -- reading ------------------------------------------------------------------------

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def match(self, pattern: re.Pattern[str]) -> str | None:
        """Consume and return what ``pattern`` matches here, or None (consuming nothing)."""
        m = pattern.match(self.text, self.pos)
        if not m or not m.group():
            return None
        self.pos = m.end()
        return m.group()

    def peek_word(self) -> str:
        m = _WORD.match(self.text, self.pos)
        return m.group() if m else ""

    def fragment(self, start: int) -> str:
        """The token that starts at ``start`` (up to whitespace, parenthesis or comma)."""
        m = _TOKEN_END.match(self.text, start)
        return (m.group() if m else "") or self.text[start:start + 1]

    def found(self, start: int) -> str:
        """The token at ``start`` quoted for a message, or "the end" when there is none."""
        token = self.fragment(start)
        return repr(token) if token else "the end"

    def fail(self, problem: str, start: int, hint: str) -> InvalidArgument:
        """The error to raise: the problem, where (from 1), and the text around it."""
        shown, width = self.text, 200
        if len(shown) > width:  # a window around the position, so the message stays short
            low = max(0, min(start - width // 2, len(shown) - width))
            high = low + width
            shown = ("..." if low else "") + shown[low:high] + ("..." if high < len(shown) else "")
        return InvalidArgument(
            f"invalid {self.what}: {problem} at position {start + 1} of {shown!r}", hint
        )

    def quoted(self) -> str:
        """A string in the quote found here (', " or `), a doubled quote standing for one."""
        quote, start = self.text[self.pos], self.pos
        chars: list[str] = []
        i = start + 1
        while i < len(self.text):
            if self.text[i] == quote:
                if self.text.startswith(quote * 2, i):
                    chars.append(quote)
                    i += 2
                    continue
                self.pos = i + 1
                return "".join(chars)
            chars.append(self.text[i])
            i += 1
        raise self.fail(f"unterminated string {self.text[start:start + 30]!r}", start,
                        f"close it with a matching {quote}; {_QUOTE_HINT}")

    # -- grammar ------------------------------------------------------------------------

    def identifier(self) -> tuple[str, str]:
        """``[entity.]key`` as (canonical entity, key); a bare key is an attribute."""
        start = self.pos
        first, quoted = self._name_part(start)
        if self.peek() != ".":
            return "attribute", self._attribute(first, start)
        entity = ENTITY_ALIASES.get(first.lower())
        if entity is not None and entity != "attribute" and entity not in self.grammar.entities:
            raise self.fail(f"{self.grammar.what} searches have no {entity}s", start,
                            self._entity_hint())
        if entity is None:
            if first.lower() in ("dataset", "datasets"):
                raise self.fail(f"dataset filters ({first!r}) are not supported yet", start,
                                "filter on params, metrics, tags or run attributes")
            shown = f"`{first}`" if quoted else first
            raise self.fail(f"unknown entity {shown!r}", start, self._entity_hint())
        self.pos += 1
        key_start = self.pos
        key = self.quoted() if self.peek() in ('"', "`") else self.match(_BARE_KEY) or ""
        if not key:
            raise self.fail(f"missing key after {self.text[start:key_start]!r}",
                            key_start, self._entity_hint())
        if entity == "attribute":
            key = self._attribute(key, key_start)
        return entity, key

    def _name_part(self, start: int) -> tuple[str, bool]:
        """The first word of an identifier (or a quoted one), with whether it was quoted."""
        char = self.peek()
        if char in ('"', "`"):
            return self.quoted(), True
        word = self.match(_WORD)
        if word is not None:
            return word, False
        if char == "'" or _NUMBER.match(self.text, start):
            raise self.fail(f"expected a key such as metrics.acc, found {self.found(start)}",
                            start, "the key comes first: metrics.acc > 0.9, params.opt = 'adam'")
        raise self.fail(f"unexpected {self.found(start)}", start, _ENTITY_HINT)

    def _attribute(self, name: str, start: int) -> str:
        canonical = self.grammar.canonical(name)
        if canonical is None:
            if self.grammar is not RUNS:
                known = ", ".join(self.grammar.attributes)
                raise self.fail(f"unknown attribute {name!r}", start,
                                f"{self.grammar.what} attributes are {known}; for a tag "
                                f"write tags.{name}")
            known = ", ".join(ATTRIBUTES)
            raise self.fail(f"unknown attribute {name!r}", start,
                            f"run attributes are {known} (and the aliases 'run name', "
                            f"created, id); for a metric, param or tag write metrics.{name}, "
                            f"params.{name} or tags.{name}")
        return canonical

    def _entity_hint(self) -> str:
        if self.grammar is RUNS:
            return _ENTITY_HINT
        return (f"name a tag as tags.<key>; a bare name is one of the {self.grammar.what}'s "
                f"attributes ({', '.join(self.grammar.attributes)})")

    def direction(self) -> bool:
        """An optional ASC/DESC after an order_by identifier: True for ascending."""
        self.skip_ws()
        if self.at_end():
            return True
        start = self.pos
        word = self.match(_WORD)
        if word is not None and word.upper() in ("ASC", "DESC"):
            self.skip_ws()
            if self.at_end():
                return word.upper() == "ASC"
            start = self.pos
        raise self.fail(f"unexpected {self.found(start)}", start,
                        "an order_by item is a key and an optional ASC or DESC, "
                        "e.g. 'metrics.acc DESC'")


_JOIN_HINT = "join comparisons with AND, e.g. metrics.acc > 0.9 AND params.opt = 'adam'"
_KEY_QUOTE_HINT = "quote keys containing spaces or symbols: metrics.`f1 score`"
_PAREN_HINT = "comparisons are joined by AND without grouping; parentheses only enclose IN lists"


def _read_comparison(s: _Scanner) -> Comparison:
    """identifier, comparator and value, checked against what that identifier accepts."""
    start = s.pos
    word = s.peek_word().upper()
    if word == "NOT":
        raise s.fail("NOT is not supported", start,
                     "use !=, NOT IN or IS NOT NULL, e.g. params.opt != 'sgd'")
    if word in ("AND", "OR"):
        raise s.fail(f"expected a comparison, found {s.peek_word()!r}", start, _JOIN_HINT)
    if s.peek() in ("(", ")"):
        raise s.fail("parentheses are not supported", start, _PAREN_HINT)
    entity, key = s.identifier()
    ident = s.text[start:s.pos]
    rule = _rule_for(entity, key, s.grammar)
    s.skip_ws()
    op_start = s.pos
    op = _read_comparator(s, ident, rule)
    if op not in rule.ops:
        raise s.fail(f"{op} is not allowed for {ident!r}", op_start, rule.hint)
    return Comparison(entity, key, op, _read_value(s, op, rule))


def _read_comparator(s: _Scanner, ident: str, rule: _Rule) -> str:
    """A symbol (=, !=, <, ...) or a keyword comparator (LIKE, ILIKE, [NOT] IN, IS [NOT] NULL)."""
    start = s.pos
    if s.at_end():
        raise s.fail(f"missing comparator after {ident!r}", start, rule.hint)
    symbol = s.match(_SYMBOL_OP)
    if symbol is not None:
        if symbol in NUMERIC_OPS:
            return symbol
        better = "=" if symbol == "==" else "!="
        raise s.fail(f"unknown comparator {symbol!r}", start, f"write {better}; {rule.hint}")
    word = (s.match(_WORD) or "").upper()
    if word in ("LIKE", "ILIKE", "IN"):
        return word
    if word in ("IS", "NOT"):
        return _read_two_word_comparator(s, word, start, rule)
    raise s.fail(f"expected a comparator after {ident!r}, found {s.found(start)}", start,
                 f"{rule.hint}; {_KEY_QUOTE_HINT}")


def _read_two_word_comparator(s: _Scanner, first: str, start: int, rule: _Rule) -> str:
    """The rest of ``IS [NOT] NULL`` or ``NOT IN``, after ``first`` (IS or NOT) was read."""
    hint = "write IS NULL, IS NOT NULL or NOT IN (...)"
    s.skip_ws()
    second_start = s.pos
    second = (s.match(_WORD) or "").upper()
    if first == "NOT":
        if second == "IN":
            return "NOT IN"
        if second in ("LIKE", "ILIKE"):
            raise s.fail(f"NOT {second} is not supported", start, rule.hint)
        raise s.fail(f"expected IN after NOT, found {s.found(second_start)}", second_start, hint)
    if second == "NULL":
        return "IS NULL"
    if second != "NOT":
        raise s.fail(f"expected NULL or NOT NULL after IS, found {s.found(second_start)}",
                     second_start, hint)
    s.skip_ws()
    third_start = s.pos
    if (s.match(_WORD) or "").upper() == "NULL":
        return "IS NOT NULL"
    raise s.fail(f"expected NULL after IS NOT, found {s.found(third_start)}", third_start, hint)


def _read_value(s: _Scanner, op: str, rule: _Rule) -> float | str | tuple[str, ...] | None:
    """The value after ``op``: nothing, a list, a quoted string or a number, as ``rule`` wants."""
    if op in NULL_OPS:
        return None
    s.skip_ws()
    start = s.pos
    if s.at_end():
        raise s.fail(f"missing value after {op!r}", start, rule.hint)
    if op in LIST_OPS:
        return _read_list(s, op)
    char = s.peek()
    if char in ("'", '"'):
        text = s.quoted()
        if rule.numeric:
            raise s.fail(f"{s.text[start:s.pos]} is a string, but {op} here compares numbers",
                         start, f"{rule.hint}; numbers take no quotes")
        if op in ("LIKE", "ILIKE"):
            _check_pattern(s, text, start)
        return text
    if char == "`":
        raise s.fail("backticks quote keys, not values", start, "quote strings with ' or \"")
    number = _read_number(s)
    if number is not None:
        if not rule.numeric:
            literal = s.text[start:s.pos]
            raise s.fail(f"{literal} is a number, but {op} here compares strings", start,
                         f"quote it: '{literal}'; {rule.hint}")
        return number
    if char == "(":
        raise s.fail("a parenthesised list needs IN or NOT IN", start, rule.hint)
    if s.peek_word().upper() == "NULL":
        raise s.fail(f"{op} NULL never matches", start, "write IS NULL or IS NOT NULL")
    tail = "" if rule.numeric else "; quote strings: 'adam'"
    raise s.fail(f"expected a value after {op!r}, found {s.found(start)}", start,
                 rule.hint + tail)


def _read_number(s: _Scanner) -> float | None:
    """A decimal or scientific number here (sign allowed), or None if none starts here."""
    start = s.pos
    literal = s.match(_NUMBER)
    if literal is None:
        return None
    if not (s.at_end() or s.peek().isspace() or s.peek() in (")", ",")):
        raise s.fail(f"malformed number {s.found(start)}", start,
                     "numbers look like 3, -0.5, 1e-3 or 1.5E+6")
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise s.fail(f"number {literal} is out of range", start, "use a finite number")
    return value


def _read_list(s: _Scanner, op: str) -> tuple[str, ...]:
    """``('a', "b", ...)``: at least one quoted string, comma-separated, parenthesised."""
    start = s.pos
    hint = f"{op} takes quoted strings in parentheses, e.g. run_id {op} ('a', 'b')"
    if s.peek() != "(":
        raise s.fail(f"expected a list after {op}, found {s.found(start)}", start, hint)
    s.pos += 1
    items: list[str] = []
    while True:
        s.skip_ws()
        item_start, char = s.pos, s.peek()
        if char in ("'", '"'):
            items.append(s.quoted())
        elif not char:
            raise s.fail("unclosed list", start, f"close it with ); {hint}")
        elif char == ")" and not items:
            raise s.fail("empty list", start, hint)
        else:
            raise s.fail(f"expected a quoted string in the list, found {s.found(item_start)}",
                         item_start, hint)
        s.skip_ws()
        char = s.peek()
        if char == ")":
            s.pos += 1
            return tuple(items)
        if not char:
            raise s.fail("unclosed list", start, f"close it with ); {hint}")
        if char != ",":
            raise s.fail(f"expected , or ) in the list, found {s.found(s.pos)}", s.pos, hint)
        s.pos += 1


def _check_pattern(s: _Scanner, pattern: str, start: int) -> None:
    """Refuse a pattern ending in a lone backslash (PostgreSQL would fail on it mid-query)."""
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2:
        raise s.fail("LIKE pattern ends with a lone backslash", start,
                     "a backslash escapes the next character (\\% matches %, \\_ matches _); "
                     "write \\\\ for a backslash")


def _read_joiner(s: _Scanner) -> bool:
    """After a comparison: True for AND (a comparison must follow), False at the end."""
    s.skip_ws()
    if s.at_end():
        return False
    start = s.pos
    word = s.peek_word()
    if word.upper() == "AND":
        s.match(_WORD)
        s.skip_ws()
        if s.at_end():
            raise s.fail("the filter ends with AND", start,
                         "add a comparison after AND, or remove it")
        return True
    if word.upper() == "OR":
        raise s.fail("OR is not supported", start, _OR_HINT)
    if s.peek() in ("(", ")"):
        raise s.fail("parentheses are not supported", start, _PAREN_HINT)
    hint = _JOIN_HINT
    if s.text[:start].rstrip().endswith(("\\'", '\\"')):
        hint = f"a backslash does not escape a quote: {_QUOTE_HINT}"
    raise s.fail(f"expected AND or the end of the filter, found {s.found(start)}", start,
                 hint)


def parse_filter(text: str | None, *, grammar: Grammar = RUNS) -> list[Comparison]:
    """The comparisons of a filter, in order; None or blank means no filter. ``grammar``:
    which search language (runs' by default)."""
    if text is None:
        return []
    if not isinstance(text, str):
        raise InvalidArgument(f"a filter is a string, not {type(text).__name__}",
                              "e.g. \"metrics.acc > 0.9 AND params.opt = 'adam'\"")
    scanner = _Scanner(text, "filter", grammar)
    scanner.skip_ws()
    if scanner.at_end():
        return []
    comparisons = [_read_comparison(scanner)]
    while _read_joiner(scanner):
        comparisons.append(_read_comparison(scanner))
    return comparisons


def parse_order_by(
    items: Sequence[str] | None, *, grammar: Grammar = RUNS
) -> list[OrderKey]:
    """Sort keys from order_by strings such as ``"metrics.acc DESC"`` (ASC by default)."""
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    keys = []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidArgument(f"order_by item {index + 1} is {type(item).__name__}, "
                                  "not a string", "e.g. order_by=['metrics.acc DESC']")
        scanner = _Scanner(item, f"order_by item {index + 1}", grammar)
        scanner.skip_ws()
        if scanner.at_end():
            raise scanner.fail("empty order_by item", 0,
                               "an order_by item is a key and an optional ASC or DESC, "
                               "e.g. 'metrics.acc DESC'")
        entity, key = scanner.identifier()
        keys.append(OrderKey(entity, key, scanner.direction()))
    return keys
