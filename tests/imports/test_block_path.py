"""The block import path (pyarrow, a column at a time) gives what the row path gives.

Each file is imported twice, into two fresh creators: once by the Patreon parser as shipped
(which reads blocks) and once by the same parser with the block path switched off (the csv
module, a row at a time). The reports (counts, and every rejected row's line, column and
reason) and the stored fans must be the same. Blocks are made tiny, so records, quoted line
breaks and the rows the block path hands to the row converter fall across block boundaries.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, text

from huntaze.imports.formats.patreon import PatreonMembersParser
from huntaze.imports.reading import arrowcsv
from huntaze.imports.records import FanBlock
from huntaze.imports.writing.writer import run_import
from huntaze.kit.clock import FrozenClock

HEADER = (
    "Name,Email,Discord,Patron Status,Follows You,Free Member,Free Trial,Lifetime Amount,"
    "Pledge Amount,Charge Frequency,Tier,Addressee,Street,City,State,Zip,Country,Phone,"
    "Patronage Since Date,Last Charge Date,Last Charge Status,Additional Details,User ID,"
    "Last Updated,Currency,Max Posts,Access Expiration,Next Charge Date,Full country name,"
    "Subscription Source"
)


def member(
    key: str,
    name: str = "Ana García",
    email: str = "ana@example.com",
    status: str = "Active patron",
    follows: str = "Yes",
    lifetime: str = "12.50",
    pledge: str = "5.00",
    tier: str = "Gold",
    since: str = "2023-01-15 10:22:01",
    last: str = "2024-02-01 08:00:00.123456",
    currency: str = "EUR",
    expiry: str = "",
    country: str = "FR",
) -> str:
    cells = [name, email, "", status, follows, "No", "No", lifetime, pledge, "monthly", tier]
    cells += ["", "", "", "", "", country, "", since, last, "Paid", "", key, "", currency, ""]
    cells += [expiry, "", "France", "Patreon"]
    return ",".join(cells)


class RowOnly(PatreonMembersParser):
    """The Patreon parser without its block path."""

    parse_blocks = None  # type: ignore[assignment]


FANS = (
    "platform_fan_id, username, display_name, email, subscription_status, subscribed_at, "
    "expires_at, last_active_at, lifetime_value_cents, currency, consent, custom_fields"
)


def _stored(engine: Engine, creator_id: str) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {FANS} FROM fans WHERE creator_id = :c"), {"c": creator_id}
        )
        return {row[0]: tuple(row) for row in rows}


def _both(
    engine: Engine, make_tenant: Callable[..., Any], clock: FrozenClock, data: bytes
) -> tuple[dict[str, Any], dict[str, tuple[Any, ...]]]:
    results = []
    for parser in (PatreonMembersParser(), RowOnly()):
        creator_id = make_tenant()["creator_id"]
        report = run_import(engine, creator_id, parser, io.BytesIO(data), clock)
        results.append((report.as_dict(), _stored(engine, creator_id)))
    (blocks_report, blocks_fans), (rows_report, rows_fans) = results
    assert blocks_report == rows_report
    assert blocks_fans == rows_fans
    return blocks_report, blocks_fans


@pytest.fixture(autouse=True)
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arrowcsv, "BLOCK_BYTES", 700)


def test_plain_rows_take_the_block_path(engine, make_tenant, clock) -> None:  # type: ignore[no-untyped-def]
    data = "\n".join([HEADER, *(member(str(100 + i), email=f"m{i}@x.test") for i in range(40))])
    items = list(PatreonMembersParser().parse_blocks(io.BytesIO(data.encode())))
    assert sum(len(i) for i in items if isinstance(i, FanBlock)) == 40  # none went row by row
    report, fans = _both(engine, make_tenant, clock, data.encode())
    assert report["inserted"] == 40
    assert fans["100"][8] == 1250 and fans["100"][9] == "EUR"


def test_awkward_rows_give_the_same_report_and_fans(engine, make_tenant, clock) -> None:  # type: ignore[no-untyped-def]
    rows = [
        "",  # a blank line before the header
        HEADER,
        member("1"),
        member("2", name='"Zoë ""Z"" Line\nBreak"', email="zoe@x.test"),
        ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,",  # only blank cells: skipped
        "   ",  # only white space: skipped
        member("3", lifetime='"$1,234.50"', email="c@x.test"),  # the row converter's amount
        member("4", since="2023-01-15T10:22:01+02:00", email="d@x.test"),  # a zone
        member("5", since="2023-02-30 00:00:00", email="e@x.test"),  # no such day: rejected
        member("6", email="José@Exämple.test"),  # not ASCII: the shared rule decides
        member("7", email="bad@@", follows="Maybe"),  # rejected: not Yes or No
        "Short Row,short@example.test,,Active patron",  # 4 fields: rejected
        member("8", email="f@x.test") + ",,",  # blank extra fields: kept
        member("9", email="g@x.test") + ",oops",  # an extra value: rejected
        member("", email="Keyed@X.test"),  # no User ID: keyed by email
        member("", email=""),  # no key at all: rejected
        member("10", tier="Gold\\VIP", email="h@x.test"),  # JSON must escape it
        member("11", currency="euro", email="i@x.test"),  # rejected currency
        member("12", name="N" * 300, email="j@x.test"),  # too long: rejected
        member("13", status="  active PATRON ", email="k@x.test"),
        member("14", lifetime="", pledge="", currency="", since="", last="", email="l@x.test"),
        member("15", expiry="2031-01-01 00:00:00", email="m@x.test"),
    ]
    data = "\r\n".join(rows) + "\r\n"
    report, fans = _both(engine, make_tenant, clock, data.encode())
    assert [(e["line"], e["column"]) for e in report["errors"]] == [
        (10, "Patronage Since Date"),
        (12, "Follows You"),
        (13, "Follows You"),  # the first missing field
        (15, None),
        (17, "User ID"),
        (19, "Currency"),
        (20, "Name"),
    ]
    assert report["errors"][2]["reason"] == "4 fields, the header has 30"
    assert fans["3"][8] == 123450
    assert "email:keyed@x.test" in fans


def test_repeated_keys_keep_the_last_row(engine, make_tenant, clock) -> None:  # type: ignore[no-untyped-def]
    rows = [HEADER]
    for i in range(30):
        rows.append(member(str(i % 7), tier=f"T{i}", email=f"n{i}@x.test"))
    report, fans = _both(engine, make_tenant, clock, "\n".join(rows).encode())
    assert report["inserted"] == 7 and report["updated"] + report["unchanged"] == 23
    assert len(fans) == 7
    assert "T29" in str(fans["1"][11])  # row 29 is the last with key 1


def test_a_stray_quote_or_a_lone_cr_reads_the_rest_row_by_row(engine, make_tenant, clock) -> None:  # type: ignore[no-untyped-def]
    rows = [HEADER, *(member(str(i), email=f"o{i}@x.test") for i in range(20))]
    rows.append(member("50", name='5" tall', email="p@x.test"))
    rows += [member(str(60 + i), email=f"q{i}@x.test") for i in range(20)]
    _both(engine, make_tenant, clock, "\n".join(rows).encode())
    mac = "\r".join([HEADER, *(member(str(i), email=f"r{i}@x.test") for i in range(5))])
    report, _ = _both(engine, make_tenant, clock, mac.encode())
    assert report["inserted"] == 5


def test_a_bom_and_a_file_without_a_final_line_break(engine, make_tenant, clock) -> None:  # type: ignore[no-untyped-def]
    data = "\ufeff" + "\n".join([HEADER, member("1"), member("2", email="s@x.test")])
    report, _ = _both(engine, make_tenant, clock, data.encode())
    assert report["inserted"] == 2


def test_reimport_is_unchanged_and_an_edit_is_an_update(engine, make_tenant, clock) -> None:  # type: ignore[no-untyped-def]
    creator_id = make_tenant()["creator_id"]
    rows = [HEADER, *(member(str(i), email=f"t{i}@x.test") for i in range(25))]
    data = "\n".join(rows).encode()
    first = run_import(engine, creator_id, PatreonMembersParser(), io.BytesIO(data), clock)
    again = run_import(engine, creator_id, PatreonMembersParser(), io.BytesIO(data), clock)
    assert (first.inserted, again.unchanged, again.updated) == (25, 25, 0)
    # the row path agrees that the block path's rows are unchanged
    by_rows = run_import(engine, creator_id, RowOnly(), io.BytesIO(data), clock)
    assert (by_rows.unchanged, by_rows.updated) == (25, 0)
    rows[5] = member("4", email="t4@x.test", tier="Silver")
    edited = run_import(
        engine, creator_id, PatreonMembersParser(), io.BytesIO("\n".join(rows).encode()), clock
    )
    assert (edited.updated, edited.unchanged) == (1, 24)
    assert "Silver" in str(_stored(engine, creator_id)["4"][11])
