from __future__ import annotations

from django.db import migrations


def render_finished_answers(apps, schema_editor):
    """Finished answers kept before their HTML was (answers now get it when they end), rendered
    once here, so that pages only read it. Uses today's renderer, as the pages did."""
    from playground.chat.markdown import render_answer

    Message = apps.get_model("chat", "Message")
    missing = Message.objects.filter(role="assistant", html="").exclude(status="streaming")
    for message in missing.only("pk", "content", "params").iterator(chunk_size=500):
        Message.objects.filter(pk=message.pk).update(html=render_answer(message.content, message.params))


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0005_message_system_fingerprint"),
    ]

    operations = [
        migrations.RunPython(render_finished_answers, migrations.RunPython.noop),
    ]
