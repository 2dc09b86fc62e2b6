"""Forms for teams, members and projects."""

from __future__ import annotations

from django import forms

from playground.accounts.models import Role


class NameForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)


class TeamForm(NameForm):
    name = forms.CharField(label="Team name", max_length=100, strip=True)


class ProjectForm(NameForm):
    name = forms.CharField(label="Project name", max_length=100, strip=True)


class MemberAddForm(forms.Form):
    identifier = forms.CharField(label="Username or email", max_length=254, strip=True)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class SwitchForm(forms.Form):
    project = forms.IntegerField(label="Project")
