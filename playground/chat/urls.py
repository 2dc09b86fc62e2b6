from __future__ import annotations

from django.urls import path

from playground.chat import views

urlpatterns = [
    path("projects/<int:project_id>/conversations/", views.conversation_list, name="conversation_list"),
    path("conversations/<int:conversation_id>/", views.conversation_detail, name="conversation_detail"),
    path("conversations/<int:conversation_id>/rename/", views.conversation_rename, name="conversation_rename"),
    path("conversations/<int:conversation_id>/delete/", views.conversation_delete, name="conversation_delete"),
    path(
        "conversations/<int:conversation_id>/branch/<int:message_id>/",
        views.conversation_branch,
        name="conversation_branch",
    ),
    path("conversations/<int:conversation_id>/earlier/", views.conversation_earlier, name="conversation_earlier"),
    path("messages/<int:message_id>/", views.message_fragment, name="message_fragment"),
]
