from __future__ import annotations

from django.urls import path

from playground.images import views

urlpatterns = [
    path("projects/<id:project_id>/images/", views.image_gallery, name="image_gallery"),
    path("projects/<id:project_id>/images/generate/", views.image_generate, name="image_generate"),
    path("images/<id:image_id>/", views.image_detail, name="image_detail"),
    path("images/<id:image_id>/file/", views.image_file, name="image_file"),
    path("images/<id:image_id>/thumbnail/", views.image_thumbnail, name="image_thumbnail"),
    path("images/<id:image_id>/download/", views.image_download, name="image_download"),
    path("images/<id:image_id>/delete/", views.image_delete, name="image_delete"),
]
