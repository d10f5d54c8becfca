"""Certificates issued before names were required carry the learner's email address as their name.

Each one is put right without losing its code or issue date: when the learner has a name by now it becomes
the certificate's name and the template version is cleared, so the hourly "regenerate outdated" task
re-renders the PDF with it; when they still have none the certificate waits for it ("awaiting name": the
dashboard asks, and giving the name re-renders it under the same code and date).
"""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Lower


def fix_email_names(apps, schema_editor):
    Certificate = apps.get_model("certificates", "Certificate")
    by_email = (
        Certificate.objects.annotate(name=Lower("learner_name"), email=Lower("enrollment__learner__email"))
        .filter(name=F("email"))
        .select_related("enrollment__learner")
    )
    for certificate in by_email.iterator():
        name = certificate.enrollment.learner.full_name.strip()
        if name and name.lower() != certificate.email:
            certificate.learner_name = name
            certificate.template_version = ""
        elif certificate.status in ("issued", "pending", "rendering", "failed"):
            certificate.learner_name = ""
            certificate.status = "awaiting_name"
        else:  # revoked: the record stays, without the address
            certificate.learner_name = "(name not given)"
        certificate.save(update_fields=["learner_name", "template_version", "status", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [("certificates", "0003_certificate_awaiting_name")]

    operations = [migrations.RunPython(fix_email_names, migrations.RunPython.noop)]
