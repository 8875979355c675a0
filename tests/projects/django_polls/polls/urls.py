from django.urls import path

from . import views

app_name = "polls"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:question_id>/", views.detail, name="detail"),
    path("form/", views.form, name="form"),
    path("saved/", views.saved, name="saved"),
    path("process/", views.process, name="process"),
]
