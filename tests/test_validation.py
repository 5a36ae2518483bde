"""The shared input checks: check_embedding's fast path for float32 arrays decides exactly as its full check does;
the limits every adapter enforces (content depth and size, indexed text, embedding norms) refuse with typed errors,
never RecursionError; okai_insight._json decodes and encodes what the json module cannot."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okai_insight import _json as okai_json
from okai_insight.errors import DeepContentWarning, DimensionMismatch, InvalidContent, InvalidEmbedding, InvalidInput
from okai_insight.validation import (
    MAX_CONTENT_BYTES,
    MAX_CONTENT_DEPTH,
    MAX_INDEXED_TEXT_BYTES,
    MAX_SQUARED_NORM,
    check_cache_value,
    check_content,
    check_embedding,
    check_indexed_text,
    content_json,
)

DIM = 8


def _vec(*values: float) -> np.ndarray:
    out = np.full(DIM, 0.5, dtype=np.float32)
    out[: len(values)] = values
    return out


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("where", [0, DIM - 1])
def test_nan_and_inf_anywhere_are_refused(bad, where):
    v = _vec()
    v[where] = bad
    with pytest.raises(InvalidEmbedding, match="NaN or infinite"):
        check_embedding(v, DIM)


def test_finite_values_whose_float32_norm_overflows_are_refused_on_both_paths():
    # finite float32, but pgvector's float32 sum of squares overflows: stored, the vector would never be found
    for v in (_vec(3.4e38, 3.4e38, 3.4e38), _vec(1e20), np.full(DIM, 1e19, dtype=np.float32)):
        with pytest.raises(InvalidEmbedding, match="too large"):
            check_embedding(v, DIM)
        with pytest.raises(InvalidEmbedding, match="too large"):
            check_embedding(v.tolist(), DIM)
        with pytest.raises(InvalidEmbedding, match="too large"):
            check_embedding(v, DIM, allow_zero=False)


@pytest.mark.parametrize("scale", [0.99, 1.0, 1.01])
def test_the_norm_limit_is_the_same_on_the_fast_and_the_full_path(scale):
    v = np.zeros(DIM, dtype=np.float32)
    v[0] = np.float32(np.sqrt(MAX_SQUARED_NORM) * scale)
    squared = float(v.astype(np.float64) @ v.astype(np.float64))
    outcomes = []
    for value in (v, v.tolist(), v.astype(np.float64)):
        try:
            outcomes.append(check_embedding(value, DIM) is not None)
        except InvalidEmbedding:
            outcomes.append(False)
    assert outcomes == [squared <= MAX_SQUARED_NORM] * 3


def test_values_whose_squares_vanish_in_float32_are_refused():
    tiny = np.full(DIM, 1e-23, dtype=np.float32)  # 1e-46 squared: 0 in float32, a zero norm in pgvector
    for value in (tiny, tiny.tolist()):
        with pytest.raises(InvalidEmbedding, match="too small"):
            check_embedding(value, DIM)
    small_but_fine = np.full(DIM, 1e-15, dtype=np.float32)
    assert check_embedding(small_but_fine, DIM) is small_but_fine


@pytest.mark.parametrize(
    "value",
    [
        np.ones(DIM, dtype=np.complex64),
        np.ones(DIM, dtype=np.complex128) * (1 + 2j),
        [1 + 2j] * DIM,
        [np.complex128(1 + 1j)] + [1.0] * (DIM - 1),
        [1j, None] + [1.0] * (DIM - 2),
    ],
)
def test_complex_embeddings_are_refused_not_truncated_to_their_real_part(value):
    with pytest.raises(InvalidEmbedding):
        check_embedding(value, DIM)


def test_text_numbers_are_not_parsed_into_an_embedding():
    with pytest.raises(InvalidEmbedding, match="real numbers"):
        check_embedding(["0.5"] * DIM, DIM)


def test_a_zero_query_is_refused_but_a_tiny_one_is_not():
    zero = np.zeros(DIM, dtype=np.float32)
    assert check_embedding(zero, DIM) is zero  # stored zero vectors are allowed (ElizaOS placeholders)
    with pytest.raises(InvalidEmbedding, match="no direction"):
        check_embedding(zero, DIM, allow_zero=False)
    cancelling = _vec(1.0, -1.0, 0, 0, 0, 0, 0, 0)  # sums to 0, yet has a direction
    assert check_embedding(cancelling, DIM, allow_zero=False) is cancelling


def test_wrong_length_and_other_dtypes_take_the_full_check():
    with pytest.raises(DimensionMismatch):
        check_embedding(np.ones(DIM + 1, dtype=np.float32), DIM)
    as64 = check_embedding(np.ones(DIM, dtype=np.float64), DIM)
    assert as64.dtype == np.float32 and as64.shape == (DIM,)
    swapped = check_embedding(np.ones(DIM, dtype=">f4"), DIM)
    assert swapped.dtype == np.float32 and float(swapped.sum()) == DIM
    with pytest.raises(InvalidEmbedding, match="one-dimensional"):
        check_embedding(np.ones((1, DIM), dtype=np.float32), DIM)


# -- content: depth, cycles and size --------------------------------------------------------------------------


def _nested(depth: int, kind: str = "dict") -> dict:
    """A content object ``depth`` levels deep (the object itself is level 1)."""
    inner: Any = 1
    for _ in range(depth - 1):
        inner = {"a": inner} if kind == "dict" else [inner]
    return {"a": inner}


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_content_at_the_depth_limit_is_accepted_and_one_deeper_is_refused(kind):
    ok = _nested(MAX_CONTENT_DEPTH, kind)
    assert json.loads(content_json(ok)) == json.loads(json.dumps(ok))
    with pytest.raises(InvalidContent, match=f"nested more than {MAX_CONTENT_DEPTH} levels"):
        content_json(_nested(MAX_CONTENT_DEPTH + 1, kind))


@pytest.mark.parametrize("depth", [990, 3000, 100_000])
def test_very_deep_content_is_a_typed_refusal_not_a_recursion_error(depth):
    for check in (content_json, check_content):
        with pytest.raises(InvalidContent, match="nested more than"):
            check(_nested(depth))
        with pytest.raises(InvalidContent, match="nested more than"):
            check(_nested(depth, "list"))


def test_content_that_contains_itself_is_refused_and_shared_parts_are_not():
    loop: dict[str, Any] = {"text": "x"}
    loop["self"] = loop
    with pytest.raises(InvalidContent, match="contains itself"):
        content_json(loop)
    items: list[Any] = [1]
    items.append(items)
    with pytest.raises(InvalidContent, match="contains itself"):
        content_json({"items": items})
    part = {"k": [1, 2]}
    assert content_json({"a": part, "b": part}) == '{"a": {"k": [1, 2]}, "b": {"k": [1, 2]}}'


def test_content_at_the_limit_is_checked_even_from_a_deep_call_stack():
    # json.dumps shares the recursion limit with its caller: at 512 levels from 600 frames deep it fails, and
    # content_json encodes without recursion instead of raising RecursionError
    value = _nested(MAX_CONTENT_DEPTH)
    expected = json.dumps(value, ensure_ascii=False)

    def call_from_depth(n: int) -> str:
        return content_json(value) if n == 0 else call_from_depth(n - 1)

    assert call_from_depth(sys.getrecursionlimit() - 400) == expected


def test_content_larger_than_the_limit_is_refused():
    almost = "x" * (MAX_CONTENT_BYTES - len('{"text": ""}'))
    assert len(content_json({"text": almost}).encode()) == MAX_CONTENT_BYTES
    with pytest.raises(InvalidContent, match="bytes as JSON"):
        content_json({"text": almost + "x"})
    with pytest.raises(InvalidContent, match="bytes as JSON"):  # counted in UTF-8 bytes, not characters
        content_json({"text": "é" * (MAX_CONTENT_BYTES // 2)})


# -- indexed text and cache values ---------------------------------------------------------------------------


def test_indexed_text_is_limited_in_utf8_bytes():
    assert check_indexed_text("k" * MAX_INDEXED_TEXT_BYTES, "key") == "k" * MAX_INDEXED_TEXT_BYTES
    with pytest.raises(InvalidInput, match="bytes of UTF-8"):
        check_indexed_text("k" * (MAX_INDEXED_TEXT_BYTES + 1), "key")
    with pytest.raises(InvalidInput, match=r"account\.email is 2052 bytes"):
        check_indexed_text("😀" * (MAX_INDEXED_TEXT_BYTES // 4 + 1), "account.email")
    assert check_indexed_text(None, "account.username", optional=True) is None


def test_a_cache_value_larger_than_the_content_limit_is_refused():
    assert check_cache_value("v" * 1000) == "v" * 1000
    with pytest.raises(InvalidContent, match="bytes as JSON"):
        check_cache_value("v" * MAX_CONTENT_BYTES)


# -- okai_insight._json -------------------------------------------------------------------------------------

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text())
json_values = st.recursive(
    json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4))
)


@settings(max_examples=300, deadline=None)
@given(value=json_values, indent=st.sampled_from([None, 2]))
def test_the_iterative_decoder_and_encoder_agree_with_the_json_module(value, indent):
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    decoded, _ = okai_json._loads_iteratively(text)
    assert json.dumps(decoded) == json.dumps(json.loads(text))
    assert okai_json._dumps_iteratively(decoded, ensure_ascii=True, allow_nan=True) == json.dumps(decoded)


@pytest.mark.parametrize("bad", ["", "[", "[1,", '{"a"', '{"a":}', "[1 2]", "[1]x", "{1:2}", "tru", "[,]", "[1,]"])
def test_the_iterative_decoder_refuses_what_the_json_module_refuses(bad):
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad)
    with pytest.raises(json.JSONDecodeError):
        okai_json._loads_iteratively(bad)


@pytest.mark.parametrize("depth", [3000, 9000])
def test_json_too_deep_for_the_json_module_is_decoded_whole_with_a_warning(depth):
    text = '{"a": ' * depth + '"leaf"' + "}" * depth
    with pytest.raises(RecursionError):
        json.loads(text)
    with pytest.warns(DeepContentWarning, match=f"nested {depth} levels deep"):
        value = okai_json.loads(text.encode())
    for _ in range(depth):
        value = value["a"]
    assert value == "leaf"


def test_the_loader_takes_the_json_module_path_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert okai_json.loads(memoryview(b'{"a": [1, 2.5, null]}')) == {"a": [1, 2.5, None]}
