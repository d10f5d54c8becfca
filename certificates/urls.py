from django.urls import path

from certificates import views

urlpatterns = [
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate_detail"),
    path("certificates/<int:pk>/pdf/", views.certificate_download, name="certificate_download"),
    path("staff/certificates/<int:pk>/pdf/", views.certificate_staff_download, name="certificate_staff_download"),
    path("certificates/verify/", views.certificate_verify_form, name="certificate_verify_form"),
    path("certificates/verify/<str:code>/", views.certificate_verify, name="certificate_verify"),
]
