from __future__ import annotations

from django.urls import path

from playground.embeddings import views

urlpatterns = [
    path("projects/<id:project_id>/embeddings/", views.run_list, name="embedding_runs"),
    path("projects/<id:project_id>/embeddings/new/", views.run_create, name="embedding_run_create"),
    path("embeddings/<id:run_id>/", views.run_detail, name="embedding_run_detail"),
    path("embeddings/<id:run_id>/progress/", views.run_progress, name="embedding_run_progress"),
    path("embeddings/<id:run_id>/retry/", views.run_retry, name="embedding_run_retry"),
    path("embeddings/<id:run_id>/neighbours/", views.run_neighbours, name="embedding_run_neighbours"),
    path("embeddings/<id:run_id>/compare/", views.run_compare, name="embedding_run_compare"),
    path("embeddings/<id:run_id>/vectors.csv", views.run_vectors_csv, name="embedding_run_vectors_csv"),
    path("embeddings/<id:run_id>/similarity.csv", views.run_similarity_csv, name="embedding_run_similarity_csv"),
    path("embeddings/<id:run_id>/delete/", views.run_delete, name="embedding_run_delete"),
    path("projects/<id:project_id>/rerank/", views.rerank_documents, name="rerank"),
]
