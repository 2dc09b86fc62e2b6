"""Server time to render a chat page with 1,000 messages (500 questions and their answers).

The page shows the latest THREAD_PAGE messages and loads earlier ones on demand; the time of
the page with all 1,000 shown (`?show=1000`, as without JavaScript after enough clicks) is
measured too. Django's test environment is not set up while timing: it wraps every template
render to copy its context for test assertions, a third of the time of a page like this.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection
from django.test import Client

RUNS = 7
ANSWER = """Here is what I found about **streaming** answers:

1. Tokens arrive as server-sent events.
2. The page appends them as text, then swaps in the rendered markdown.

```python
async for event in events:
    print(event.text, end="")
```

| model | tokens/s |
|---|---:|
| demo-chat | 40 |
| demo-fast | 100000 |
"""


def run() -> dict[str, float]:
    from playground.chat.markdown import render_answer
    from playground.chat.models import Conversation, Message
    from tests.factories import MembershipFactory, ProjectFactory

    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        membership = MembershipFactory(role="member")
        project = ProjectFactory(team=membership.team)
        conversation = Conversation.objects.create(project=project, model="demo-chat", title="Long")
        parent = None
        html = render_answer(ANSWER)  # kept with each answer, as generation keeps it when an answer ends
        for n in range(500):
            parent = Message.objects.create(conversation=conversation, parent=parent, role="user", content=f"Q{n}?")
            parent = Message.objects.create(
                conversation=conversation, parent=parent, role="assistant", content=ANSWER, html=html, status="done"
            )
        conversation.current_leaf = parent
        conversation.save()
        client = Client(HTTP_HOST="localhost")
        client.force_login(membership.user)
        url = f"/conversations/{conversation.pk}/"
        return {
            "chat_page_1000_messages_ms": median_ms(client, url),
            "chat_page_all_1000_shown_ms": median_ms(client, url + "?show=1000"),
        }
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def median_ms(client, url: str) -> float:
    page = client.get(url)  # warm up
    assert page.status_code == 200 and b"Q499?" in page.content
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 1)
