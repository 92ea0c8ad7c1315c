"""The streaming JSON reader: elements, line numbers, chunk boundaries, errors, memory."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from huntaze.imports.reading import jsonstream
from huntaze.imports.reading.jsonrecords import as_row_error, json_text
from huntaze.imports.reading.jsonstream import JSONStreamError, iter_array_items, iter_key_arrays
from huntaze.imports.records import RowError


def gen(
    text: str | bytes, keys: tuple[str, ...] = ("list",), chunk: int = 65536
) -> Iterator[tuple[int, Any]]:
    data = text.encode() if isinstance(text, str) else text
    return iter_array_items(io.BytesIO(data), keys, chunk_size=chunk)


def key_gen(text: str | bytes, key: str = "FansList", chunk: int = 65536) -> Iterator[Any]:
    data = text.encode() if isinstance(text, str) else text
    return iter_key_arrays(io.BytesIO(data), key, chunk_size=chunk)


def items(text: str | bytes, keys: tuple[str, ...] = ("list",), chunk: int = 65536) -> list[Any]:
    return list(gen(text, keys, chunk))


def key_items(text: str | bytes, key: str = "FansList", chunk: int = 65536) -> list[Any]:
    return list(key_gen(text, key, chunk))


def error_of(stream: Iterator[Any]) -> tuple[list[Any], JSONStreamError]:
    """Run a generator to its error; return what it yielded before, and the error."""
    got: list[Any] = []
    with pytest.raises(JSONStreamError) as info:
        for item in stream:
            got.append(item)
    return got, info.value


PRETTY = """{
  "hasMore": true,
  "note": "a ] and a [ and \\"list\\" in a string",
  "list": [
    {
      "id": 1,
      "name": "Zoë"
    },
    {"id": 2},

    3,
    "four",
    [5, {"six": 6}],
    null
  ],
  "after": {"list": [99]}
}
"""


def test_object_with_list_key_pretty_printed_lines() -> None:
    assert items(PRETTY) == [
        (5, {"id": 1, "name": "Zoë"}),
        (9, {"id": 2}),
        (11, 3),
        (12, "four"),
        (13, [5, {"six": 6}]),
        (14, None),
    ]


def test_bare_array_single_line_and_empty() -> None:
    assert items('[{"a": 1}, {"b": 2}, 3]') == [(1, {"a": 1}), (1, {"b": 2}), (1, 3)]
    assert items("[]") == []
    assert items("  \n [ \n ] \n") == []
    assert items('{"list": []}') == []


def test_bom_crlf_and_multibyte_across_every_chunk_boundary() -> None:
    text = '\ufeff[\r\n  {"n": "Zoë Åberg 李"},\r\n  {"n": "Łukasz"}\r\n]\r\n'
    expected = [(2, {"n": "Zoë Åberg 李"}), (3, {"n": "Łukasz"})]
    for chunk in range(1, 40):
        assert items(text.encode("utf-8"), chunk=chunk) == expected, chunk


def test_numbers_split_at_chunk_boundaries_are_read_whole() -> None:
    text = "[1, 12345, 1.5e10, -0.25, 6E-2, 7, true, false, null, 10]"
    expected = [(1, v) for v in json.loads(text)]
    for chunk in range(1, len(text) + 2):
        assert items(text, chunk=chunk) == expected, chunk
    # A number ending the document is complete at EOF.
    for chunk in range(1, 6):
        assert items("[123456]", chunk=chunk) == [(1, 123456)]


def test_every_chunk_size_gives_the_same_result() -> None:
    expected = items(PRETTY)
    for chunk in range(1, len(PRETTY) + 2):
        assert items(PRETTY, chunk=chunk) == expected, chunk


def test_element_larger_than_the_default_chunk() -> None:
    big = {"id": 7, "blob": "é" * 70_000, "nested": [list(range(50))] * 100}
    text = "[\n" + json.dumps({"id": 6}) + ",\n" + json.dumps(big) + ",\n" + '{"id": 8}\n]'
    got = items(text)
    assert [(line, v["id"]) for line, v in got] == [(2, 6), (3, 7), (4, 8)]
    assert got[1][1] == big


def test_truncated_file_keeps_elements_before_the_error() -> None:
    text = '{"list": [\n  {"id": 1},\n  {"id": 2},\n  {"id": 3, "name": "Zo'
    for chunk in (1, 3, 7, 65536):
        got, err = error_of(gen(text, chunk=chunk))
        assert got == [(2, {"id": 1}), (3, {"id": 2})]
        assert err.syntax is True
        assert err.line == 4
    got, err = error_of(gen('[\n{"id": 1},\n{"id": 2}\n'))
    assert got == [(2, {"id": 1}), (3, {"id": 2})]
    assert (err.line, err.syntax) == (4, True)
    assert "end of file" in str(err)


@pytest.mark.parametrize(
    ("text", "good", "line"),
    [
        ("[1,\n2\n3]", [(1, 1), (2, 2)], 3),  # missing comma
        ('[\n{"a": 1},\n{"a": tru},\n{"a": 3}\n]', [(2, {"a": 1})], 3),  # bad literal
        ('[\n{"a": 1}\n]\n\n  garbage', [(2, {"a": 1})], 5),  # trailing data
        ('{"list": [1, 2]\n,\n"x": }', [(1, 1), (1, 2)], 3),  # bad member after the array
        ('[\n{"a": "x\u0001y"}\n]', [], 2),  # control character in a string
        ("[1, 2,]", [(1, 1), (1, 2)], 1),  # trailing comma
    ],
)
def test_syntax_errors_report_their_line(text: str, good: list[Any], line: int) -> None:
    for chunk in (1, 2, 5, 65536):
        got, err = error_of(gen(text, chunk=chunk))
        assert got == good
        assert (err.line, err.syntax) == (line, True), chunk


def test_invalid_bytes_are_a_syntax_error_never_replacement_characters() -> None:
    got, err = error_of(gen(b'["a",\n"b\xffc"]'))
    assert got == [(1, "a")] and (err.line, err.syntax) == (2, True)
    assert str(err).startswith("not valid UTF-8")
    _got, err = error_of(gen(b"\xff\xfe[1]"))
    assert (err.line, err.syntax) == (1, True)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('"just a string"', 1),
        ("\n\n42", 3),
        ('{"data": [1, 2]}', 1),
        ('{"list": null, "hasMore": false}', 1),
        ('\n{"list": {"id": 1}}', 2),
    ],
)
def test_valid_json_of_the_wrong_shape(text: str, line: int) -> None:
    got, err = error_of(gen(text))
    assert got == []
    assert (err.line, err.syntax) == (line, False)
    assert str(err) == "expected a JSON array or an object with 'list'"


def test_empty_document_and_deep_nesting_are_syntax_errors() -> None:
    for text in ("", "   \n  ", "\ufeff"):
        _got, err = error_of(gen(text))
        assert (err.line, err.syntax, str(err)) == (1, True, "empty document")
    got, err = error_of(gen("[1, " + "[" * 100_000))
    assert got == [(1, 1)]
    assert err.syntax is True
    _got, err = error_of(key_gen('{"a": ' * 5000))
    assert err.syntax is True


def test_several_matching_keys_stream_in_turn() -> None:
    text = '{"list": [1], "relationships_followers": [2, 3]}'
    assert items(text, keys=("list", "relationships_followers")) == [(1, 1), (1, 2), (1, 3)]


OLD_TIKTOK = """{
  "Activity": {
    "Video Browsing History": {"VideoList": [{"Date": "x", "VideoLink": "y"}]},
    "Follower List": {
      "FansList": [
        {"Date": "2021-11-11 01:22:22", "UserName": "a"},
        {"Date": "2021-11-12 01:22:22", "UserName": "b"}
      ]
    },
    "Note": "FansList"
  },
  "Profile": {"ProfileMap": {"userName": "me"}}
}"""


def test_key_anywhere_streams_nested_arrays() -> None:
    expected = [
        (6, {"Date": "2021-11-11 01:22:22", "UserName": "a"}),
        (7, {"Date": "2021-11-12 01:22:22", "UserName": "b"}),
    ]
    for chunk in range(1, len(OLD_TIKTOK) + 2, 3):
        assert key_items(OLD_TIKTOK, chunk=chunk) == expected, chunk


def test_key_anywhere_several_arrays_inside_lists_and_not_inside_matches() -> None:
    text = (
        '[{"x": {"FansList": [1, {"FansList": [2]}]}},\n'
        ' {"FansList": null}, {"FansList": "n/a"},\n'
        ' {"y": [[{"FansList": [3]}]]}]'
    )
    for chunk in (1, 4, 65536):
        assert key_items(text, chunk=chunk) == [(1, 1), (1, {"FansList": [2]}), (3, 3)]


def test_key_anywhere_not_found_or_null_only() -> None:
    got, err = error_of(key_gen('{"Activity": {"Following": [1, 2]}, "s": "FansList"}'))
    assert got == []
    assert (err.line, err.syntax, str(err)) == (1, False, "no 'FansList' array found")
    assert key_items('{"a": {"FansList": null}}') == []
    _got, err = error_of(key_gen('{"a": {"FansList": "none"}}'))
    assert err.syntax is False


def test_key_anywhere_truncated_keeps_elements() -> None:
    text = OLD_TIKTOK[: OLD_TIKTOK.index('"b"') + 2]
    for chunk in (1, 16, 65536):
        got, err = error_of(key_gen(text, chunk=chunk))
        assert got == [(6, {"Date": "2021-11-11 01:22:22", "UserName": "a"})]
        assert (err.line, err.syntax) == (7, True)


class CountingStream(io.RawIOBase):
    """A huge generated JSON array that counts the bytes read from it."""

    def __init__(self, elements: int) -> None:
        self.element = b'{"id": 123456, "name": "Zo\xc3\xab \xc3\x85berg", "pad": "' + b"x" * 80
        self.element += b'"},\n'
        self.remaining = elements
        self.pending = b"[\n"
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self.pending) < len(buffer) and self.remaining:
            self.remaining -= 1
            self.pending += self.element if self.remaining else self.element[:-2] + b"\n]\n"
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        self.read_bytes += n
        return n


def test_memory_stays_flat_reads_follow_consumption() -> None:
    stream = CountingStream(200_000)  # about 25 MB
    gen = iter_array_items(stream, (), chunk_size=4096)  # type: ignore[arg-type]
    first = next(gen)
    assert first[0] == 2
    assert stream.read_bytes <= 2 * 4096
    count = 1
    for line, value in gen:
        count += 1
        assert value["id"] == 123456
        if count == 1000:
            assert line == 1001
            assert stream.read_bytes <= 1000 * len(stream.element) + 3 * 4096
    assert count == 200_000


def test_large_members_are_skipped_in_streaming_fashion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "MAX_ELEMENT_CHARS", 10_000)
    meta = json.dumps({"pages": [{"n": i, "s": "Zoë" * 5} for i in range(20_000)]})
    text = '{"meta": ' + meta + ',\n"list": [{"id": 1}],\n"tail": ' + meta + "}"
    assert items(text, chunk=4096) == [(2, {"id": 1})]
    tiktok = '{"Activity": ' + meta + ', "F": {"FansList": [1]}}'
    assert key_items(tiktok, chunk=4096) == [(1, 1)]
    # A single value larger than the limit is refused rather than buffered.
    _got, err = error_of(gen('[1, "' + "x" * 50_000 + '"]', chunk=4096))
    assert (err.line, err.syntax, str(err)) == (1, True, "value too large")


def test_as_row_error_and_json_text() -> None:
    assert as_row_error(JSONStreamError("Expecting value", 4, syntax=True)) == RowError(
        4, None, "invalid JSON: Expecting value"
    )
    assert as_row_error(JSONStreamError("no 'FansList' array found", 1, syntax=False)) == (
        RowError(1, None, "no 'FansList' array found")
    )
    # kept as written: the import's value rules reject NUL and lone surrogates with the row
    assert json_text("  Zoë \x00 ") == "Zoë \x00"
    assert json_text("\ud800x") == "\ud800x"
    assert json_text("   ") is None
    assert json_text(5) is None
