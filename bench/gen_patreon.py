"""Generate a synthetic Patreon Members CSV (30-column header, formats.md) of N rows."""

from __future__ import annotations

import csv
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

HEADER = [
    "Name",
    "Email",
    "Discord",
    "Patron Status",
    "Follows You",
    "Free Member",
    "Free Trial",
    "Lifetime Amount",
    "Pledge Amount",
    "Charge Frequency",
    "Tier",
    "Addressee",
    "Street",
    "City",
    "State",
    "Zip",
    "Country",
    "Phone",
    "Patronage Since Date",
    "Last Charge Date",
    "Last Charge Status",
    "Additional Details",
    "User ID",
    "Last Updated",
    "Currency",
    "Max Posts",
    "Access Expiration",
    "Next Charge Date",
    "Full country name",
    "Subscription Source",
]
FIRST = ["Amélie", "Jürgen", "Zoë", "Søren", "Ana", "李", "Chloé", "Mateo", "Aiko", "Noah"]
LAST = ["Ødegaard", "Dupont", "García", "Smith", "Nowak", "王", "Rossi", "Kim", "Okafor", "Lee"]
STATUS = ["Active patron", "Active patron", "Active patron", "Declined patron", "Former patron", ""]
TIERS = [("Bronze", "3.00"), ("Silver", "7.00"), ("Gold", "15.00")]


def generate(path: Path, rows: int, seed: int = 42) -> None:
    """Write ``rows`` synthetic members to ``path`` (deterministic for a ``seed``)."""
    rnd = random.Random(seed)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(rows):
            name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
            status = rnd.choice(STATUS)
            tier, pledge = rnd.choice(TIERS)
            since = start + timedelta(seconds=rnd.randrange(0, 200_000_000))
            last = since + timedelta(days=rnd.randrange(0, 400), microseconds=rnd.randrange(10**6))
            lifetime = f"{rnd.randrange(0, 100_000) / 100:.2f}"
            out.writerow(
                [
                    name,
                    f"member{i}@example.com",
                    "",
                    status,
                    rnd.choice(["Yes", "No"]),
                    "No",
                    "No",
                    lifetime,
                    pledge,
                    "monthly",
                    tier,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "FR",
                    "",
                    since.strftime("%Y-%m-%d %H:%M:%S"),
                    last.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "Paid",
                    "",
                    str(10_000_000 + i),
                    last.strftime("%Y-%m-%d %H:%M:%S"),
                    "EUR",
                    "",
                    "",
                    "",
                    "France",
                    "Patreon",
                ]
            )


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]))
