"""Writing usage records: the one function every upstream call ends in."""

from __future__ import annotations

from playground.usage.models import UsageRecord


def usage_record_create(**fields) -> UsageRecord:
    message = fields.get("error_message") or ""
    fields["error_message"] = message[:500]
    return UsageRecord.objects.create(**fields)
