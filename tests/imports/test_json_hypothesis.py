"""Property tests: the JSON/TXT parsers raise nothing but a whole-file error before any
record to write, and give one record per element or block."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huntaze.imports.base import ImportFormatError
from huntaze.imports.formats import instagram, onlyfans, tiktok
from huntaze.imports.records import FanRecord, PurchaseRecord, Record, RowError

FILE = "(file)"  # the column of the one RowError run() gives for a whole-file error

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = st.sampled_from(
    [
        "list",
        "hasMore",
        "id",
        "username",
        "name",
        "displayName",
        "lastSeen",
        "subscribedOn",
        "subscribedOnExpiredNow",
        "subscribedOnData",
        "totalSumm",
        "tipsSumm",
        "subscribeAt",
        "status",
        "listsStates",
        "hasUser",
        "amount",
        "fee",
        "net",
        "currency",
        "createdAt",
        "description",
        "user",
        "relationships_followers",
        "string_list_data",
        "title",
        "href",
        "value",
        "timestamp",
        "FansList",
        "Follower",
        "Date",
        "UserName",
    ]
) | st.text(max_size=8)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "2025-01-01T00:00:00+00:00",
            "2021-11-11 01:22:22",
            "Tip from <a>x</a>",
            "Subscription from x",
            "undo",
            "loading",
            "done",
            "usd",
            "https://www.instagram.com/_u/x?y=1",
            "Jos\u00c3\u00a9",
        ]
    )
)

JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=30,
)

JSON_PARSERS = [
    (onlyfans.OnlyFansFansParser, ("list",)),
    (onlyfans.OnlyFansTransactionsParser, ("list",)),
    (instagram.InstagramFollowersParser, ("relationships_followers",)),
]


def run(parser: Any, data: bytes) -> list[Record]:
    records: list[Record] = []
    try:
        records.extend(parser.parse(io.BytesIO(data)))
    except ImportFormatError as exc:
        assert not any(isinstance(r, FanRecord | PurchaseRecord) for r in records)
        return [RowError(exc.line or 1, FILE, str(exc))]
    for record in records:
        assert isinstance(record, FanRecord | PurchaseRecord | RowError)
        assert record.line >= 1
        if isinstance(record, RowError):
            assert record.reason
    return records


def expected_array_count(doc: Any, keys: tuple[str, ...]) -> int | None:
    """Elements of the main array, or None when the document has the wrong shape."""
    if isinstance(doc, list):
        return len(doc)
    if isinstance(doc, dict):
        arrays = [doc[k] for k in keys if isinstance(doc.get(k), list)]
        if arrays:
            return sum(len(a) for a in arrays)
    return None


def expected_fans_list(doc: Any) -> int | None:
    """Elements under every FansList key (not searching inside them), None if none found."""
    count, found = 0, False
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "FansList" and isinstance(value, list):
                    count, found = count + len(value), True
                elif key == "FansList":
                    found = found or value is None
                else:
                    stack.append(value)
    return count if found else None


def encodings(doc: Any, pretty: bool, ascii_only: bool) -> bytes:
    text = json.dumps(doc, indent=2 if pretty else None, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


@SETTINGS
@given(data=st.binary(max_size=400), chunk=st.integers(1, 64))
def test_arbitrary_bytes_never_raise(data: bytes, chunk: int) -> None:
    for cls, _keys in JSON_PARSERS:
        run(cls(chunk_size=chunk), data)
    run(tiktok.TikTokJsonParser(chunk_size=chunk), data)
    run(tiktok.TikTokTxtParser(), data)


@SETTINGS
@given(
    doc=JSON_VALUES,
    wrap=st.sampled_from([None, "list", "relationships_followers"]),
    pretty=st.booleans(),
    ascii_only=st.booleans(),
    chunk=st.integers(1, 40),
)
def test_arbitrary_json_one_record_per_element(
    doc: Any, wrap: str | None, pretty: bool, ascii_only: bool, chunk: int
) -> None:
    if wrap is not None and isinstance(doc, list):
        doc = {wrap: doc, "hasMore": False}
    data = encodings(doc, pretty, ascii_only)
    for cls, keys in JSON_PARSERS:
        records = run(cls(chunk_size=chunk), data)
        expected = expected_array_count(doc, keys)
        if expected is None:
            assert len(records) == 1 and isinstance(records[0], RowError), (cls, records)
        else:
            assert len(records) == expected, (cls, records)
            if not pretty:
                assert {r.line for r in records} <= {1}


@SETTINGS
@given(
    doc=JSON_VALUES,
    fans=st.lists(JSON_VALUES, max_size=6),
    path=st.lists(KEYS, max_size=3),
    pretty=st.booleans(),
    chunk=st.integers(1, 40),
)
def test_arbitrary_json_tiktok_fans_list(
    doc: Any, fans: list[Any], path: list[str], pretty: bool, chunk: int
) -> None:
    nested: Any = {"FansList": fans}
    for key in reversed(path):
        nested = {key: nested}
    for candidate in (doc, {"Profile And Settings": nested, "Other": doc}):
        data = encodings(candidate, pretty, True)
        records = run(tiktok.TikTokJsonParser(chunk_size=chunk), data)
        expected = expected_fans_list(candidate)
        if expected is None:
            assert records == [RowError(1, FILE, "no 'FansList' array found")]
        else:
            assert len(records) == expected


FOLLOWER = st.fixed_dictionaries(
    {"Date": st.sampled_from(["2021-11-11 01:22:22", "bogus", 5, None]), "UserName": SCALARS}
)


@SETTINGS
@given(fans=st.lists(FOLLOWER, max_size=8), chunk=st.integers(1, 30))
def test_tiktok_json_followers_map_exactly(fans: list[dict[str, Any]], chunk: int) -> None:
    data = json.dumps({"Activity": {"Follower List": {"FansList": fans}}}, indent=1).encode()
    records = run(tiktok.TikTokJsonParser(chunk_size=chunk), data)
    assert len(records) == len(fans)
    for fan, record in zip(fans, records, strict=True):
        name = fan["UserName"]
        usable = isinstance(name, str) and name.strip().lstrip("@").strip()
        if not usable:
            assert isinstance(record, RowError) and record.column == "UserName"
        elif fan["Date"] in ("bogus", 5):
            assert isinstance(record, RowError) and record.column == "Date"
        else:
            assert isinstance(record, FanRecord)
            assert record.platform_fan_id == record.platform_fan_id.lower()
            assert not record.platform_fan_id.startswith("@")


TXT_FIELD = st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=15)


@SETTINGS
@given(
    blocks=st.lists(
        st.tuples(st.one_of(st.none(), TXT_FIELD), st.one_of(st.none(), TXT_FIELD)),
        max_size=10,
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    utc=st.booleans(),
)
def test_tiktok_txt_one_record_per_block(
    blocks: list[tuple[str | None, str | None]], newline: str, utc: bool
) -> None:
    lines: list[str] = []
    starts: list[int] = []
    for date, user in blocks:
        start = len(lines) + 1
        if date is not None:
            lines.append(f"Date: {date}{' UTC' if utc else ''}")
        if user is not None:
            lines.append(f"Username: {user}")
        if date is not None or user is not None:
            starts.append(start)
        lines.append("")
    data = newline.join(lines).encode("utf-8")
    records = run(tiktok.TikTokTxtParser(), data)
    assert [r.line for r in records] == starts


FIXTURE_DIR = Path(__file__).parent / "fixtures" / "json"
CORRUPTIBLE = [
    (onlyfans.OnlyFansFansParser, "onlyfans_fans.json"),
    (onlyfans.OnlyFansTransactionsParser, "onlyfans_transactions.json"),
    (instagram.InstagramFollowersParser, "instagram_followers_1.json"),
    (tiktok.TikTokJsonParser, "tiktok_user_data_old.json"),
]
EDIT = st.tuples(
    st.floats(0, 1),
    st.sampled_from(["replace", "delete", "truncate"]),
    st.sampled_from(list(b'{}[],:"\\ 0123456789.eE-+tfnx\n\xc3')),
)


@SETTINGS
@given(
    case=st.sampled_from(CORRUPTIBLE), edits=st.lists(EDIT, max_size=3), chunk=st.integers(1, 50)
)
def test_corrupted_files_same_records_whatever_the_chunk_size(
    case: tuple[Any, str], edits: list[tuple[float, str, int]], chunk: int
) -> None:
    cls, name = case
    data = bytearray((FIXTURE_DIR / name).read_bytes())
    for where, op, byte in edits:
        pos = int(where * (len(data) - 1)) if data else 0
        if op == "replace":
            data[pos : pos + 1] = bytes([byte])
        elif op == "delete":
            del data[pos : pos + 7]
        else:
            del data[pos:]
    expected = run(cls(), bytes(data))
    assert run(cls(chunk_size=chunk), bytes(data)) == expected
