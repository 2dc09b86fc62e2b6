"""How every form of the project renders: Django's templates, with help texts escaped.

Django's own field template marks help texts safe, for help written by programmers. Ours
come from uploaded schemas, prompt variables and providers too, so they are escaped like any
other text; help built with `format_html` (the password rules) is already safe and stays so.
"""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"
