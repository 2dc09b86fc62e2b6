"""Model instances from SQL whose column list and converters are worked out once per model.

For the few reads every chat send waits for (the scoping helper's, the key's, the budgets'):
the ORM builds and compiles a query on every call, and RawQuerySet matches its columns to
fields on every call too, and for these small queries that cost several times their
running. A row becomes an instance as the ORM makes one: the database's value converters
(datetimes, JSON, booleans), then Model.from_db.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


class Columns(Generic[M]):
    """A model's concrete columns, in field order (the order Model.from_db takes)."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.fields = model._meta.concrete_fields
        self.pk_index = self.fields.index(model._meta.pk)
        self._converters: dict[str, list[tuple[int, list, Any]]] = {}  # by database vendor
        self._select: dict[str, str] = {}  # likewise

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self) -> str:
        """The select list, each column qualified by the model's table."""
        found = self._select.get(connection.vendor)
        if found is None:
            quote = connection.ops.quote_name
            table = quote(self.model._meta.db_table)
            found = self._select[connection.vendor] = ", ".join(f"{table}.{quote(f.column)}" for f in self.fields)
        return found

    def _converters_now(self) -> list[tuple[int, list, Any]]:
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.model._meta.db_table)
                converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if converters:
                    found.append((index, converters, column))
            self._converters[connection.vendor] = found
        return found

    def build(self, values: Sequence[Any]) -> M:
        """The instance of one row's values for these columns."""
        values = list(values)
        for index, converters, column in self._converters_now():
            value = values[index]
            for convert in converters:
                value = convert(value, column, connection)
            values[index] = value
        return self.model.from_db(connection.alias, None, values)


def fetch(columns: Columns[M], sql: str, params: Sequence[Any]) -> list[M]:
    """Instances of the rows of `sql`, in which `{columns}` stands for the select list and
    `{table}` for the model's table."""
    table = connection.ops.quote_name(columns.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(columns=columns.sql(), table=table), params)
        return [columns.build(row) for row in cursor.fetchall()]
