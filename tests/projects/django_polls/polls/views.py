import os

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from . import counter, signals
from .forms import VoteForm
from .models import Question


def index(request):
    latest_question_list = Question.objects.order_by("-pub_date")[:5]
    return render(request, "polls/index.html", {"latest_question_list": latest_question_list})


def detail(request, question_id):
    question = get_object_or_404(Question, pk=question_id)
    return HttpResponse(f"question {question.question_text}")


def form(request):
    return HttpResponse(VoteForm().as_p())


def saved(request):
    # Creates a question: the post_save receivers run once each.
    Question.objects.create(question_text=request.GET.get("q", "q"), pub_date=timezone.now())
    return HttpResponse(" ".join(signals.SAVED))


def process(request):
    # The serving process and a counter kept in an unedited module.
    return HttpResponse(f"{os.getpid()} {next(counter.VISITS)}")
