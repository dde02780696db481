"""Near-miss candidates for the odd spellings of api_forms.toml: each judges the
address it reads from an IPv4 spelling, refuses a non-global one, and dials what it
read, but reads some spellings otherwise than inet_aton does. The API-2/API-4
spelling cases must fail against them (tests/catalogue/test_spellings_can_fail.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.catalogue.near_miss import NearMissAdapter


class _Misreader(NearMissAdapter):
    folder = Path(__file__).parent


class DecimalPartsAdapter(_Misreader):
    bootstrap = "misreaders_boot:decimal_parts"
    summary = ("reads dotted parts as decimal, pads short forms at the end, ignores parts "
               "past four, never range-checks a part, drops a trailing dot with a digit")


class ByteOrderAdapter(_Misreader):
    bootstrap = "misreaders_boot:byte_order"
    summary = "reads a one-number spelling in host (little-endian) byte order"
