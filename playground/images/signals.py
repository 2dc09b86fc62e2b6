"""Files go when the last picture naming them goes, however it is deleted (one picture, a
generation, a whole project or team by cascade)."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from playground.images import storage
from playground.images.models import GeneratedImage


@receiver(post_delete, sender=GeneratedImage, dispatch_uid="images.remove_unused_file")
def remove_unused_file(sender, instance: GeneratedImage, using: str, **kwargs) -> None:
    file_name = instance.file_name

    def remove_if_unused() -> None:
        if not GeneratedImage.objects.using(using).filter(file_name=file_name).exists():
            storage.remove(file_name)

    transaction.on_commit(remove_if_unused, using=using)
