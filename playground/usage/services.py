"""Writing usage records: the one function every upstream call ends in."""

from __future__ import annotations

from django.db import transaction

from playground.usage.models import UsageRecord
from playground.usage.rollups import rollups_add


def usage_record_create(**fields) -> UsageRecord:
    """Write the record of one call and count it in the roll-ups, in one transaction."""
    message = fields.get("error_message") or ""
    fields["error_message"] = message[:500]
    with transaction.atomic():
        record = UsageRecord.objects.create(**fields)
        rollups_add(record)
    return record
