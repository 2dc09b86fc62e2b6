"""The audit log's filters, read from the query string."""

from __future__ import annotations

from django import forms

from playground.accounts.models import Team
from playground.audit.models import Action
from playground.audit.selectors import AuditScope


class AuditFilterForm(forms.Form):
    team = forms.TypedChoiceField(label="Team", coerce=int, empty_value=None, required=False)
    action = forms.ChoiceField(label="Action", choices=[("", "Any"), *Action.choices], required=False)
    actor = forms.CharField(label="By (username)", max_length=150, required=False)
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, *, scope: AuditScope):
        super().__init__(data)
        teams = Team.objects.all() if scope.everything else Team.objects.filter(pk__in=scope.team_ids)
        self.fields["team"].choices = [("", "Any"), *((team.pk, team.name) for team in teams)]
