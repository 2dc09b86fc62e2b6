"""The path converter for database ids in every URL: `<id:name>`.

Django's `int` converter takes any number of digits, and a number too large for a 64-bit
column does not find nothing: SQLite raises OverflowError and PostgreSQL an out-of-range
error, so `/conversations/99999999999999999999/` was a 500 wherever an id was looked up. At
most 18 digits always fits (2**63 - 1 has 19), so a longer id is simply not a URL here: 404.
"""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
