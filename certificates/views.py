from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.decorators import ratelimit

from certificates import selectors
from certificates.models import Certificate, normalize_code
from core.permissions import staff_permission_required


def verify_rate(group, request) -> str:
    # Per client address (settings.CERTIFICATE_VERIFY_RATE, 30/m by default): plenty for people,
    # useless for enumerating 120-bit codes.
    return settings.CERTIFICATE_VERIFY_RATE


class VerifyForm(forms.Form):
    code = forms.CharField(max_length=64, label="Verification code")

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError("Enter the code printed on the certificate.")
        return code


def revoked_page(request, certificate: Certificate):
    """What the learner's PDF link answers once the certificate is revoked: 410 Gone, with when and why."""
    return render(request, "certificates/revoked.html", {"certificate": certificate}, status=410)


def serve_pdf(certificate: Certificate) -> FileResponse:
    """The stored PDF as a download named after the course; shared by the page and the API."""
    try:
        handle = certificate.pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    filename = f"certificate-{certificate.display_code}.pdf"
    return FileResponse(handle, content_type="application/pdf", as_attachment=True, filename=filename)


@login_required
@require_safe
def certificate_detail(request, pk: int):
    try:
        certificate = selectors.certificate_list_for_user(user=request.user).get(pk=pk)
    except Certificate.DoesNotExist:
        raise Http404 from None
    return render(request, "certificates/detail.html", {"certificate": certificate})


@require_safe
def certificate_download(request, pk: int):
    # Anonymous visitors get the same 404 as other learners: existence itself is private.
    if not request.user.is_authenticated:
        raise Http404
    try:
        certificate = selectors.certificate_get_for_download(user=request.user, certificate_id=pk)
    except Certificate.DoesNotExist:
        raise Http404 from None
    if certificate.is_revoked:
        return revoked_page(request, certificate)
    return serve_pdf(certificate)


@staff_permission_required("certificates.view_certificate")
@require_safe
def certificate_staff_download(request, pk: int):
    """Staff's copy of any certificate's PDF (revoked ones too), through storage, whatever backend it is."""
    certificate = get_object_or_404(Certificate.objects.exclude(pdf=""), pk=pk)
    return serve_pdf(certificate)


@ratelimit(key="ip", rate=verify_rate, block=True)
@require_http_methods(["GET", "HEAD", "POST"])
def certificate_verify_form(request):
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return redirect("certificate_verify", code=form.cleaned_data["code"])
    return render(request, "certificates/verify_form.html", {"form": form})


@ratelimit(key="ip", rate=verify_rate, block=True)
@require_safe
def certificate_verify(request, code: str):
    try:
        certificate = selectors.certificate_get_by_code(code=code)
    except Certificate.DoesNotExist:
        # A page of its own (404): the person typed or scanned a code; tell them, and let them try again.
        return render(request, "certificates/verify_unknown.html", {"form": VerifyForm()}, status=404)
    return render(request, "certificates/verify.html", {"certificate": certificate})
