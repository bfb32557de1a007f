"""The run search language: every form MLflow users write parses, every mistake is explained.

Errors are ``InvalidArgument`` whose message quotes the offending part and its position
(counted from 1) and whose hint says what is allowed.
"""

from __future__ import annotations

import pytest

from gannet.core.errors import InvalidArgument
from gannet.tracking.filter_parser import ATTRIBUTES
from gannet.tracking.query import Comparison, OrderKey, parse_filter, parse_order_by


def one(text: str) -> Comparison:
    (comparison,) = parse_filter(text)
    return comparison


def error_of(text: object) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as info:
        parse_filter(text)  # type: ignore[arg-type]
    return info.value


def order_error_of(items: object) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as info:
        parse_order_by(items)  # type: ignore[arg-type]
    return info.value


# -- valid filters ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_no_filter_means_no_comparisons(text):
    assert parse_filter(text) == []


@pytest.mark.parametrize(
    ("prefix", "entity"),
    [
        ("metric", "metric"), ("metrics", "metric"), ("METRICS", "metric"),
        ("param", "param"), ("params", "param"), ("parameter", "param"),
        ("parameters", "param"), ("Params", "param"),
        ("tag", "tag"), ("tags", "tag"),
    ],
)
def test_entity_aliases(prefix, entity):
    literal, value = ("1", 1.0) if entity == "metric" else ("'1'", "1")
    assert one(f"{prefix}.k = {literal}") == Comparison(entity, "k", "=", value)


@pytest.mark.parametrize("prefix", ["attribute.", "attributes.", "attr.", "run.", ""])
def test_attribute_prefixes_and_bare_keys(prefix):
    assert one(f"{prefix}status = 'FINISHED'") == Comparison(
        "attribute", "status", "=", "FINISHED"
    )


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("`run name`", "run_name"), ('"run name"', "run_name"), ("`Run name`", "run_name"),
        ("`Run Name`", "run_name"), ("attributes.`Run name`", "run_name"),
        ('attributes."run name"', "run_name"), ("run_name", "run_name"),
        ("created", "start_time"), ("Created", "start_time"), ("attributes.created", "start_time"),
        ("id", "run_id"), ("attributes.id", "run_id"), ("RUN_ID", "run_id"),
    ],
)
def test_attribute_aliases(identifier, key):
    value = "5" if key == "start_time" else "'x'"
    assert one(f"{identifier} = {value}").key == key


@pytest.mark.parametrize("name", sorted(ATTRIBUTES))
def test_every_attribute_is_known_by_its_canonical_name(name):
    value = "1" if ATTRIBUTES[name].numeric else "'1'"
    assert one(f"attributes.{name} != {value}") == Comparison(
        "attribute", name, "!=", 1.0 if ATTRIBUTES[name].numeric else "1"
    )


@pytest.mark.parametrize(
    ("text", "entity", "key"),
    [
        ('metrics."f1 score" > 0.5', "metric", "f1 score"),
        ("metrics.`f1 score` > 0.5", "metric", "f1 score"),
        ("`metrics`.`f1 score` > 0.5", "metric", "f1 score"),
        ('"metrics"."train/loss" > 0.5', "metric", "train/loss"),
        ("tags.`my-tag` = 'x'", "tag", "my-tag"),
        ('tags."say ""hi""" = \'x\'', "tag", 'say "hi"'),
        ("tags.`a``b` = 'x'", "tag", "a`b"),
        ("params.model.depth = '3'", "param", "model.depth"),
        ('params."model.depth" = \'3\'', "param", "model.depth"),
        ("metrics.top.5 > 0.5", "metric", "top.5"),
        ("metrics.5x > 0.5", "metric", "5x"),
        ("tags.mlflow.runName = 'x'", "tag", "mlflow.runName"),
        ("metrics.ünï > 0.5", "metric", "ünï"),
        ("metrics.`ünï` > 0.5", "metric", "ünï"),
    ],
)
def test_quoted_and_dotted_keys(text, entity, key):
    comparison = one(text)
    assert (comparison.entity, comparison.key) == (entity, key)


@pytest.mark.parametrize(
    ("literal", "number"),
    [
        ("1", 1.0), ("-1", -1.0), ("+3", 3.0), ("0.5", 0.5), (".5", 0.5), ("5.", 5.0),
        ("1e3", 1000.0), ("1E-3", 0.001), ("-2.5e+2", -250.0), ("1700000000000", 1.7e12),
    ],
)
def test_numbers(literal, number):
    assert one(f"metrics.acc >= {literal}").value == number
    assert isinstance(one(f"metrics.acc >= {literal}").value, float)


@pytest.mark.parametrize(
    ("literal", "string"),
    [
        ("'adam'", "adam"), ('"adam"', "adam"), ("''", ""), ("'it''s'", "it's"),
        ('"say ""hi"""', 'say "hi"'), ("'say \"hi\"'", 'say "hi"'),
        ("'héllo wörld'", "héllo wörld"),
        ("'a AND b OR c'", "a AND b OR c"), ("'50%_off'", "50%_off"), ("'a\\b'", "a\\b"),
        ("'  spaced  '", "  spaced  "),
    ],
)
def test_strings(literal, string):
    assert one(f"params.opt = {literal}").value == string


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_metric_comparators(op):
    assert one(f"metrics.acc {op} 0.9") == Comparison("metric", "acc", op, 0.9)
    assert one(f"metrics.acc{op}0.9").op == op  # spaces are optional around symbols
    assert one(f"start_time {op} 5") == Comparison("attribute", "start_time", op, 5.0)


@pytest.mark.parametrize("entity", ["params", "tags"])
@pytest.mark.parametrize(("op", "written"), [
    ("=", "="), ("!=", "!="), ("LIKE", "LIKE"), ("LIKE", "like"), ("ILIKE", "ILIKE"),
    ("ILIKE", "iLike"),
])
def test_param_and_tag_comparators(entity, op, written):
    assert one(f"{entity}.k {written} 'v%'") == Comparison(entity[:-1], "k", op, "v%")


@pytest.mark.parametrize("entity", ["params", "tags"])
@pytest.mark.parametrize(("written", "op"), [
    ("IS NULL", "IS NULL"), ("is null", "IS NULL"), ("IS NOT NULL", "IS NOT NULL"),
    ("Is  Not\tNull", "IS NOT NULL"),
])
def test_is_null(entity, written, op):
    assert one(f"{entity}.k {written}") == Comparison(entity[:-1], "k", op, None)


@pytest.mark.parametrize("attribute", ["end_time", "parent_run_id", "git_commit"])
def test_is_null_on_nullable_attributes(attribute):
    assert one(f"{attribute} IS NULL").op == "IS NULL"
    assert one(f"attributes.{attribute} IS NOT NULL").op == "IS NOT NULL"


@pytest.mark.parametrize(
    ("text", "op", "values"),
    [
        ("run_id IN ('a')", "IN", ("a",)),
        ("run_id IN ('a', \"b\",'c')", "IN", ("a", "b", "c")),
        ("attributes.run_id in ( 'a' , 'b' )", "IN", ("a", "b")),
        ("status NOT IN ('FAILED', 'KILLED')", "NOT IN", ("FAILED", "KILLED")),
        ("status not in('it''s')", "NOT IN", ("it's",)),
        ("`Run name` IN ('x')", "IN", ("x",)),
    ],
)
def test_in_lists(text, op, values):
    comparison = one(text)
    assert (comparison.op, comparison.value) == (op, values)


@pytest.mark.parametrize("op", ["=", "!=", "LIKE", "ILIKE"])
def test_string_attribute_comparators(op):
    assert one(f"attributes.user_id {op} 'ann'") == Comparison("attribute", "user_id", op, "ann")


@pytest.mark.parametrize("joiner", ["AND", "and", "And", "aNd"])
def test_comparisons_join_with_and_in_any_case(joiner):
    text = f"metrics.acc > 0.9 {joiner} params.opt = 'adam' {joiner} tags.team IS NULL"
    assert parse_filter(text) == [
        Comparison("metric", "acc", ">", 0.9),
        Comparison("param", "opt", "=", "adam"),
        Comparison("tag", "team", "IS NULL", None),
    ]


def test_whitespace_is_free():
    assert parse_filter("  metrics.acc>0.9\nAND\tparams.opt='adam'  ") == [
        Comparison("metric", "acc", ">", 0.9), Comparison("param", "opt", "=", "adam"),
    ]


def test_the_same_key_may_be_compared_twice():
    assert parse_filter("metrics.acc > 0.5 AND metrics.acc < 0.9") == [
        Comparison("metric", "acc", ">", 0.5), Comparison("metric", "acc", "<", 0.9),
    ]


def test_comparisons_are_plain_hashable_values():
    assert {one("metrics.acc > 1"), one("metrics.acc  >  1")} == {one("metrics.acc > 1")}


# -- filter errors ------------------------------------------------------------------------


def test_or_is_refused_with_a_way_out():
    error = error_of("metrics.acc > 0.9 OR metrics.loss < 0.1")
    assert "OR is not supported" in error.message
    assert "position 19" in error.message
    assert "metrics.acc > 0.9 OR metrics.loss < 0.1" in error.message
    assert "separate" in error.hint or "one search per alternative" in error.hint
    assert "IN ('a', 'b')" in error.hint
    assert error.code == "INVALID_PARAMETER_VALUE"
    assert error.hint in str(error)


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("NOT params.opt = 'x'", "NOT is not supported", 1),
        ("(metrics.acc > 1)", "parentheses are not supported", 1),
        ("metrics.acc > 1 AND (params.a = 'x')", "parentheses are not supported", 21),
        ("metrics.acc > 1 )", "parentheses are not supported", 17),
    ],
)
def test_not_and_grouping_are_refused(text, fragment, position):
    error = error_of(text)
    assert fragment in error.message
    assert f"position {position} " in error.message


@pytest.mark.parametrize(
    ("text", "fragment", "position", "hint"),
    [
        ("params.opt = 'adam", "unterminated string \"'adam\"", 14, "matching '"),
        ('params.opt = "adam', "unterminated string '\"adam'", 14, 'matching "'),
        ("params.opt = 'it''s", "unterminated string", 14, "'it''s'"),
        ('metrics."f1 score > 1', "unterminated string", 9, 'matching "'),
        ("tags.`my-tag = 'x'", "unterminated string", 6, "matching `"),
    ],
)
def test_unterminated_strings(text, fragment, position, hint):
    error = error_of(text)
    assert fragment in error.message
    assert f"position {position} " in error.message
    assert hint in error.hint


@pytest.mark.parametrize(
    ("text", "fragment", "position", "hint"),
    [
        ("metrics.acc >", "missing value after '>'", 14, "a number"),
        ("metrics.acc >   ", "missing value after '>'", 17, "metrics.acc > 0.9"),
        ("params.opt LIKE", "missing value after 'LIKE'", 16, "quoted string"),
        ("run_id IN", "missing value after 'IN'", 10, "IN / NOT IN"),
        ("metrics.acc", "missing comparator after 'metrics.acc'", 12, "metrics take"),
        ("metrics.acc > 0.9 AND", "the filter ends with AND", 19, "after AND"),
        ("metrics.acc > 0.9 and  ", "the filter ends with AND", 19, "after AND"),
        ("AND metrics.acc > 0.9", "expected a comparison, found 'AND'", 1, "join comparisons"),
        ("metrics.a > 1 AND AND metrics.b > 2", "expected a comparison, found 'AND'", 19,
         "join comparisons"),
        ("metrics.a > 1 metrics.b > 2", "expected AND or the end of the filter, found 'metrics.b'",
         15, "join comparisons with AND"),
        ("params.opt IS", "expected NULL or NOT NULL after IS, found the end", 14, "IS NULL"),
        ("params.opt IS NOTHING", "expected NULL or NOT NULL after IS, found 'NOTHING'", 15,
         "IS NOT NULL"),
        ("params.opt IS NOT", "expected NULL after IS NOT, found the end", 18, "IS NOT NULL"),
        ("params.opt IS NOT NIL", "expected NULL after IS NOT, found 'NIL'", 19, "IS NOT NULL"),
        ("run_id NOT", "expected IN after NOT, found the end", 11, "NOT IN"),
        ("run_id NOT EQUAL 'x'", "expected IN after NOT, found 'EQUAL'", 12, "NOT IN"),
    ],
)
def test_incomplete_filters(text, fragment, position, hint):
    error = error_of(text)
    assert fragment in error.message
    assert f"position {position} " in error.message
    assert hint in error.hint


def test_unknown_attribute_lists_the_known_ones():
    error = error_of("accuracy > 0.9")
    assert "unknown attribute 'accuracy'" in error.message
    assert "position 1 " in error.message
    for name in ATTRIBUTES:
        assert name in error.hint
    assert "metrics.accuracy" in error.hint


def test_unknown_prefixed_attribute_points_at_the_key():
    error = error_of("attributes.colour = 'red'")
    assert "unknown attribute 'colour'" in error.message
    assert "position 12 " in error.message


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("metric_s.acc > 1", "unknown entity 'metric_s'", 1),
        ("`mets`.acc > 1", "unknown entity '`mets`'", 1),
        ("datasets.name = 'x'", "dataset filters", 1),
        ("dataset.digest = 'x'", "dataset filters", 1),
        ("metrics. > 1", "missing key after 'metrics.'", 9),
        ("metrics.'acc' > 1", "missing key after 'metrics.'", 9),
        ("'acc' > 1", "expected a key such as metrics.acc, found \"'acc'\"", 1),
        ("0.9 < metrics.acc", "expected a key such as metrics.acc, found '0.9'", 1),
        ("= 1", "unexpected '='", 1),
    ],
)
def test_bad_identifiers(text, fragment, position):
    error = error_of(text)
    assert fragment in error.message
    assert f"position {position} " in error.message


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("metrics.f1 score > 1", "expected a comparator after 'metrics.f1', found 'score'", 12),
        ("metrics.train/loss > 1", "found '/loss'", 14),
        ("tags.my-tag = 'x'", "found '-tag'", 8),
    ],
)
def test_unquoted_keys_with_symbols_suggest_quoting(text, fragment, position):
    error = error_of(text)
    assert fragment in error.message
    assert f"position {position} " in error.message
    assert "`f1 score`" in error.hint


@pytest.mark.parametrize(
    ("text", "fragment", "hint"),
    [
        ("metrics.acc = '0.9'", "'0.9' is a string, but = here compares numbers",
         "numbers take no quotes"),
        ("start_time > '5'", "is a string, but > here compares numbers",
         "milliseconds since the epoch"),
        ("params.lr = 0.1", "0.1 is a number, but = here compares strings", "quote it: '0.1'"),
        ("tags.n != 3", "3 is a number", "quote it: '3'"),
        ("status = 1", "1 is a number", "quote it"),
        ("params.opt = adam", "expected a value after '=', found 'adam'", "quote strings"),
        ("metrics.acc > high", "expected a value after '>', found 'high'", "a number"),
        ("params.opt = `adam`", "backticks quote keys, not values", "quote strings with '"),
        ("params.opt = NULL", "= NULL never matches", "IS NULL"),
        ("params.opt != null", "!= NULL never matches", "IS NOT NULL"),
        ("params.opt = ('a')", "a parenthesised list needs IN or NOT IN", "params take"),
        ("metrics.acc > 1.2.3", "malformed number '1.2.3'", "1e-3"),
        ("metrics.acc > 12abc", "malformed number '12abc'", "numbers look like"),
        ("metrics.acc > 1e999", "number 1e999 is out of range", "finite"),
        ("metrics.acc > 0.9AND params.a = 'x'", "malformed number '0.9AND'", "numbers"),
    ],
)
def test_values_of_the_wrong_kind(text, fragment, hint):
    error = error_of(text)
    assert fragment in error.message
    assert hint in error.hint


@pytest.mark.parametrize(
    ("text", "fragment", "hint"),
    [
        ("metrics.acc LIKE 'a%'", "LIKE is not allowed for 'metrics.acc'",
         "metrics take =, !=, <, <=, >, >= and a number, e.g. metrics.acc > 0.9"),
        ("metrics.acc IS NULL", "IS NULL is not allowed for 'metrics.acc'", "metrics take"),
        ("metrics.acc IN ('a')", "IN is not allowed for 'metrics.acc'", "metrics take"),
        ("params.lr > '0.1'", "> is not allowed for 'params.lr'",
         "params take =, !=, LIKE, ILIKE and a quoted string, or IS [NOT] NULL"),
        ("tags.t <= 'x'", "<= is not allowed for 'tags.t'", "tags take"),
        ("params.opt IN ('a')", "IN is not allowed", "params take"),
        ("tags.t NOT IN ('a')", "NOT IN is not allowed", "tags take"),
        ("status > 'A'", "> is not allowed for 'status'", "status takes =, !=, LIKE, ILIKE"),
        ("start_time LIKE '1%'", "LIKE is not allowed for 'start_time'", "start_time takes"),
        ("start_time IS NULL", "IS NULL is not allowed for 'start_time'", "start_time takes"),
        ("run_id IS NULL", "IS NULL is not allowed for 'run_id'", "IN / NOT IN"),
        ("end_time IN ('1')", "IN is not allowed for 'end_time'", "or IS [NOT] NULL"),
    ],
)
def test_comparators_not_allowed_for_the_entity(text, fragment, hint):
    error = error_of(text)
    assert fragment in error.message
    assert hint in error.hint


@pytest.mark.parametrize(
    ("text", "fragment", "hint"),
    [
        ("metrics.acc == 1", "unknown comparator '=='", "write =;"),
        ("metrics.acc <> 1", "unknown comparator '<>'", "write !=;"),
        ("metrics.acc ! 1", "unknown comparator '!'", "write !=;"),
        ("metrics.acc ~ 1", "expected a comparator after 'metrics.acc', found '~'", "metrics take"),
        ("params.opt NOT LIKE 'a%'", "NOT LIKE is not supported", "params take"),
        ("params.opt NOT ILIKE 'a%'", "NOT ILIKE is not supported", "params take"),
        ("params.opt REGEXP 'a'", "found 'REGEXP'", "LIKE"),
    ],
)
def test_unknown_comparators(text, fragment, hint):
    error = error_of(text)
    assert fragment in error.message
    assert hint in error.hint


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("run_id IN 'a'", "expected a list after IN, found \"'a'\"", 11),
        ("run_id IN ()", "empty list", 11),
        ("run_id IN ('a',)", "expected a quoted string in the list, found ')'", 16),
        ("run_id IN ('a', 1)", "expected a quoted string in the list, found '1'", 17),
        ("run_id IN (a)", "expected a quoted string in the list, found 'a'", 12),
        ("run_id IN ('a'", "unclosed list", 11),
        ("run_id IN ('a',", "unclosed list", 11),
        ("run_id IN ('a' 'b')", "expected , or ) in the list, found \"'b'\"", 16),
        ("run_id NOT IN ('a'", "unclosed list", 15),
    ],
)
def test_bad_in_lists(text, fragment, position):
    error = error_of(text)
    assert fragment in error.message
    assert f"position {position} " in error.message
    assert "('a', 'b')" in error.hint


def test_a_backslash_does_not_escape_a_quote():
    error = error_of("params.opt = 'it\\'s'")
    assert "expected AND or the end of the filter" in error.message
    assert "'it''s'" in error.hint


@pytest.mark.parametrize("pattern", ["'a\\'", "'a\\\\\\'"])
def test_like_pattern_ending_in_a_lone_backslash(pattern):
    error = error_of(f"params.path LIKE {pattern}")
    assert "LIKE pattern ends with a lone backslash" in error.message
    assert "position 18 " in error.message
    assert "\\\\ for a backslash" in error.hint


def test_like_pattern_ending_in_an_escaped_backslash_is_fine():
    assert one("params.path LIKE 'a\\\\'").value == "a\\\\"


@pytest.mark.parametrize("value", [5, b"metrics.a > 1", ["metrics.a > 1"]])
def test_a_filter_must_be_a_string(value):
    error = error_of(value)
    assert "a filter is a string" in error.message


def test_long_filters_are_shortened_in_messages():
    text = " AND ".join(f"params.p{i} = 'v'" for i in range(30)) + " OR x"
    error = error_of(text)
    assert "OR is not supported" in error.message
    assert f"position {len(text) - 3} " in error.message
    assert len(error.message) < 300
    assert "..." in error.message
    assert error.message.rstrip("'\"").endswith("OR x")  # the window shows where it went wrong


# -- order_by -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("metrics.acc DESC", OrderKey("metric", "acc", False)),
        ("metrics.acc desc", OrderKey("metric", "acc", False)),
        ("metrics.acc", OrderKey("metric", "acc", True)),
        ("metrics.acc ASC", OrderKey("metric", "acc", True)),
        ("  metrics.acc   Asc  ", OrderKey("metric", "acc", True)),
        ("params.lr", OrderKey("param", "lr", True)),
        ("parameters.model.depth DESC", OrderKey("param", "model.depth", False)),
        ("tags.team", OrderKey("tag", "team", True)),
        ("attributes.start_time ASC", OrderKey("attribute", "start_time", True)),
        ("start_time", OrderKey("attribute", "start_time", True)),
        ("created DESC", OrderKey("attribute", "start_time", False)),
        ("`Run name`", OrderKey("attribute", "run_name", True)),
        ("attr.end_time DESC", OrderKey("attribute", "end_time", False)),
        ('metrics."f1 score" DESC', OrderKey("metric", "f1 score", False)),
        ("metrics.`train/loss`", OrderKey("metric", "train/loss", True)),
    ],
)
def test_order_by_items(item, expected):
    assert parse_order_by([item]) == [expected]


def test_order_by_keeps_the_order_of_items():
    assert parse_order_by(("metrics.acc DESC", "params.lr", "run_id")) == [
        OrderKey("metric", "acc", False),
        OrderKey("param", "lr", True),
        OrderKey("attribute", "run_id", True),
    ]


@pytest.mark.parametrize("items", [None, [], ()])
def test_no_order_by(items):
    assert parse_order_by(items) == []


def test_a_single_order_by_string_is_one_item():
    assert parse_order_by("metrics.acc DESC") == [OrderKey("metric", "acc", False)]


@pytest.mark.parametrize(
    ("items", "fragment", "hint"),
    [
        (["metrics.acc DOWN"], "order_by item 1: unexpected 'DOWN' at position 13",
         "optional ASC or DESC"),
        (["metrics.acc DESC NULLS LAST"], "unexpected 'NULLS' at position 18", "ASC or DESC"),
        (["params.lr", "metrics.acc > 1"], "order_by item 2: unexpected '>' at position 13",
         "ASC or DESC"),
        ([""], "empty order_by item", "metrics.acc DESC"),
        (["  "], "empty order_by item", "metrics.acc DESC"),
        (["colour"], "unknown attribute 'colour' at position 1", "run_id"),
        (["datasets.name"], "dataset filters", "params"),
        (["metrics."], "missing key after 'metrics.'", "metrics.<key>"),
        (["metrics.`acc DESC"], "unterminated string", "matching `"),
        ([5], "order_by item 1 is int, not a string", "metrics.acc DESC"),
    ],
)
def test_order_by_errors(items, fragment, hint):
    error = order_error_of(items)
    assert fragment in error.message
    assert hint in error.hint
