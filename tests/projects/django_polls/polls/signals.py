from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Question

SAVED: list[str] = []


@receiver(post_save, sender=Question)
def question_saved(sender, instance, created, **kwargs):
    SAVED.append(f"saved:{instance.question_text}")
