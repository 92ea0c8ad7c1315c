"""A CSV row with fewer fields than the header is rejected, giving both counts; extra fields
are dropped when blank and reject the row otherwise; line numbers stay physical."""

from __future__ import annotations

import io

from huntaze.imports.reading.csvread import CsvRows
from huntaze.imports.records import RowError
from tests.imports.upload import PATREON_HEADER, fans, member, post, where


def test_a_truncated_patreon_row_is_rejected_with_the_counts(client, tenant) -> None:
    h = tenant["headers"]
    body = (
        PATREON_HEADER
        + member("1", "Ana", note="line one\r\nline two")  # lines 2-3
        + "Short Row,short@example.test,,Active patron\r\n"  # line 4
        + member("2", "Bo")  # line 5
    )
    r = post(client, h, body.encode())
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["inserted"], report["rejected"]) == (2, 1)
    (error,) = report["errors"]
    assert error == {"line": 4, "column": "Follows You", "reason": "4 fields, the header has 30"}
    assert sorted(f["displayName"] for f in fans(client, h)) == ["Ana", "Bo"]


def test_extra_fields_are_dropped_when_blank_and_reject_the_row_otherwise(client, tenant) -> None:
    h = tenant["headers"]
    # an unquoted comma shifts every value after it (a shift that only pushes a blank field
    # out passes this test, and meets the column checks instead)
    shifted = member("2", "Bo").replace('"Bo"', "Bo,Junior").replace(",\r\n", ",web\r\n")
    body = (
        PATREON_HEADER
        + member("1", "Ana").replace("\r\n", ",,\r\n")  # two trailing delimiters
        + shifted
        + member("3", "Cy")
    )
    report = post(client, h, body.encode()).json()
    assert (report["inserted"], report["rejected"]) == (2, 1)
    assert report["errors"] == [
        {"line": 3, "column": None, "reason": "31 fields, the header has 30"}
    ]


def test_generic_csv_rows_must_reach_the_last_named_column(client, tenant) -> None:
    h = tenant["headers"]
    body = b'id,name,spent,\n1,"A\nB",2.50\n2,Bo\n3,Cy,1,\n\n4,Dee,3,,\n'
    r = post(
        client, h, body, mapping={"key": "id", "displayName": "name", "lifetimeValue": "spent"}
    )
    report = r.json()
    assert (report["inserted"], report["rejected"]) == (3, 1), report
    assert where(report) == [(4, "spent")]
    assert report["errors"][0]["reason"] == "2 fields, the header has 4"


def test_csv_rows_keep_physical_lines_and_their_width() -> None:
    huge = "x" * 200_000
    data = f'a,b\n1\n1,2,3\n"{huge}",4\n5,6\n"7\n8",9,\n'.encode()
    rows = list(CsvRows(io.BytesIO(data)))
    assert rows[0] == (2, RowError(2, "b", "1 fields, the header has 2"))
    assert rows[1] == (3, RowError(3, None, "3 fields, the header has 2"))
    line, error = rows[2]
    assert line == 4 and isinstance(error, RowError) and error.line == 4
    assert rows[3:] == [(5, ["5", "6", ""]), (6, ["7\n8", "9", ""])]
