from __future__ import annotations

from django.urls import path

from playground.chat import views

urlpatterns = [
    path("projects/<id:project_id>/conversations/", views.conversation_list, name="conversation_list"),
    path("projects/<id:project_id>/chat/", views.conversation_start, name="conversation_start"),
    path("conversations/<id:conversation_id>/", views.conversation_detail, name="conversation_detail"),
    path("conversations/<id:conversation_id>/code/", views.conversation_code, name="conversation_code"),
    path("conversations/<id:conversation_id>/rename/", views.conversation_rename, name="conversation_rename"),
    path("conversations/<id:conversation_id>/delete/", views.conversation_delete, name="conversation_delete"),
    path(
        "conversations/<id:conversation_id>/branch/<id:message_id>/",
        views.conversation_branch,
        name="conversation_branch",
    ),
    path("conversations/<id:conversation_id>/earlier/", views.conversation_earlier, name="conversation_earlier"),
    path("messages/<id:message_id>/", views.message_fragment, name="message_fragment"),
]
