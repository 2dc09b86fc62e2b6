"""chat 0006: finished answers kept before their HTML are rendered once, so pages only read."""

from __future__ import annotations

import importlib

from django.apps import apps

from tests.factories import ConversationFactory, MessageFactory

migration = importlib.import_module("playground.chat.migrations.0006_render_finished_answers")


def test_finished_answers_without_html_get_it_and_nothing_else_changes(team_with_roles):
    conversation = ConversationFactory(project=team_with_roles.project)
    question = MessageFactory(conversation=conversation, content="**hi**")
    old = MessageFactory(conversation=conversation, role="assistant", content="**bold** <script>x</script>")
    live = MessageFactory(conversation=conversation, role="assistant", content="**so far**", status="streaming")
    kept = MessageFactory(conversation=conversation, role="assistant", content="x", html="<p>kept</p>")

    migration.render_finished_answers(apps, None)

    old.refresh_from_db()
    assert "<strong>bold</strong>" in old.html and "<script>" not in old.html
    for message, html in ((question, ""), (live, ""), (kept, "<p>kept</p>")):
        message.refresh_from_db()
        assert message.html == html
