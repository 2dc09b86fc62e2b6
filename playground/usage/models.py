"""Usage: one record per upstream call (who, what, how long, how many tokens, how it ended),
the roll-ups the dashboard and budgets read instead of scanning the records, prices and budgets.

The roll-ups are written by `usage.services.usage_record_create`, in the transaction that
writes the record, and can be recomputed from the records (`manage.py rebuild_usage_rollups`).
Their dimension columns mirror the record's, with the same on_delete, so that deleting a
team, project or user changes both alike and they stay equal.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Endpoint(models.TextChoices):
    CHAT = "chat", "Chat"
    COMPLETIONS = "completions", "Completions"
    IMAGES = "images", "Images"
    EMBEDDINGS = "embeddings", "Embeddings"
    RERANK = "rerank", "Rerank"
    MODELS = "models", "Models list"
    OPENAPI = "openapi", "API schema"


class Status(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    RATE_LIMITED = "rate_limited", "Rate limited"
    CANCELLED = "cancelled", "Cancelled"
    # Refused by Playground before leaving (a budget is used up): 0 tokens, never sent.
    REFUSED = "refused", "Refused (budget)"


# Calls that got no answer: the dashboard's "latest errors".
UNANSWERED = [Status.ERROR, Status.RATE_LIMITED, Status.REFUSED]


class UsageRecord(models.Model):
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("accounts.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Plain ids until providers and keys exist as models; they stay valid after a deletion.
    provider_id = models.BigIntegerField(null=True, blank=True)
    key_id = models.BigIntegerField(null=True, blank=True)
    provider_name = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    endpoint = models.CharField(max_length=20, choices=Endpoint.choices)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    tokens_estimated = models.BooleanField(default=False, help_text="Counted by us: the upstream sent no usage.")
    ttft_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Time to first token.")
    total_ms = models.PositiveIntegerField(null=True, blank=True)
    retries = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_kind = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["team", "created_at"], name="usage_team_time"),
            models.Index(fields=["created_at"], name="usage_time"),
            # The dashboard's latest errors: a few percent of the records, newest first.
            models.Index(
                fields=["created_at"], name="usage_unanswered_time", condition=models.Q(status__in=UNANSWERED)
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.model} {self.status} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class UsageCell(models.Model):
    """One period and one value of every dashboard filter: the key of a roll-up row.

    There is no unique key: a rare duplicate row (two processes creating the same new row
    at once, or two rows that became equal when a user was deleted) sums the same, and
    every read sums. The foreign keys mirror the record's, on_delete included.
    """

    period = models.DateTimeField(help_text="Start of the hour, UTC.")
    team = models.ForeignKey("accounts.Team", null=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    project = models.ForeignKey(
        "accounts.Project", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    provider_id = models.BigIntegerField(null=True)
    key_id = models.BigIntegerField(null=True)
    model = models.CharField(max_length=200, blank=True)
    endpoint = models.CharField(max_length=20, choices=Endpoint.choices)
    status = models.CharField(max_length=20, choices=Status.choices)

    class Meta:
        abstract = True


class UsageCounts(UsageCell):
    """How many calls, and their tokens."""

    requests = models.PositiveIntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.period:%Y-%m-%d %H:%M} {self.model} {self.status}: {self.requests} calls"


class UsageTimes(UsageCell):
    """The calls' latencies, exactly: the multiset of their milliseconds, 8 hex digits each
    (appended in SQL, so concurrent writers cannot lose one). Percentiles over any set of
    rows are exact. Kept apart from the counts, whose scans it would slow down eightfold."""

    ttft_values = models.TextField(blank=True, default="")
    total_values = models.TextField(blank=True, default="")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.period:%Y-%m-%d %H:%M} {self.model} {self.status}: {len(self.total_values) // 8} times"


def _cell_indexes(prefix: str) -> list[models.Index]:
    return [
        models.Index(fields=["period"], name=f"{prefix}_period"),
        models.Index(fields=["team", "period"], name=f"{prefix}_team"),
        models.Index(fields=["user", "period"], name=f"{prefix}_user"),
    ]


class UsageHour(UsageCounts):
    """Calls of one hour (from `period`, UTC): the hourly chart and the edges of a range."""

    class Meta:
        indexes = _cell_indexes("usage_hour")


class UsageHourTimes(UsageTimes):
    class Meta:
        indexes = _cell_indexes("usage_hour_times")
        verbose_name_plural = "usage hour times"


class UsageDay(UsageCounts):
    """Calls of one day of the server's time zone."""

    period = models.DateField(help_text="The day, in the server's time zone.")

    class Meta:
        indexes = _cell_indexes("usage_day")


class UsageDayTimes(UsageTimes):
    period = models.DateField(help_text="The day, in the server's time zone.")

    class Meta:
        indexes = _cell_indexes("usage_day_times")
        verbose_name_plural = "usage day times"


class UsageMonth(models.Model):
    """Tokens of one calendar month (server time zone) per team, user, provider and model:
    the few rows a budget check before each call reads."""

    month = models.DateField(help_text="First day of the month.")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    provider_id = models.BigIntegerField(null=True)
    model = models.CharField(max_length=200, blank=True)
    requests = models.PositiveIntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["team", "month"], name="usage_month_team")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.model}: {self.prompt_tokens + self.completion_tokens} tokens"


class Price(models.Model):
    """What a provider charges for a model, per million tokens in and out (USAGE_CURRENCY).

    Costs are computed with the current price, for past calls too: changing a price changes
    the cost shown for every call of that model (the audit log keeps the old price).
    """

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="prices")
    model = models.CharField(max_length=200)
    input_per_million = models.DecimalField(max_digits=12, decimal_places=4)
    output_per_million = models.DecimalField(max_digits=12, decimal_places=4)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "model"], name="one_price_per_model")]
        ordering = ["provider__name", "model"]

    def __str__(self) -> str:
        return f"{self.model}: {self.input_per_million} in / {self.output_per_million} out per 1M tokens"


class BudgetKind(models.TextChoices):
    TOKENS = "tokens", "Tokens (in and out)"
    COST = "cost", "Cost"


class Budget(models.Model):
    """A monthly limit for a team, or for one person in it. Calls over it are refused."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="budgets")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: the whole team's usage counts.",
    )
    kind = models.CharField(max_length=10, choices=BudgetKind.choices, default=BudgetKind.TOKENS)
    limit = models.DecimalField(max_digits=16, decimal_places=2, help_text="Tokens, or an amount of money.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user", "kind"], name="one_budget_per_kind"),
            models.UniqueConstraint(
                fields=["team", "kind"], condition=models.Q(user__isnull=True), name="one_team_budget_per_kind"
            ),
        ]
        ordering = ["team", "user__username", "kind"]

    def __str__(self) -> str:
        who = self.user.get_username() if self.user_id else "the team"
        return f"{self.get_kind_display()} budget of {who}: {self.limit}"
