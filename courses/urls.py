from django.urls import path

from courses import views

urlpatterns = [
    path("courses/", views.catalog, name="catalog"),
    path("courses/<slug:slug>/", views.course_detail, name="course_detail"),
]
