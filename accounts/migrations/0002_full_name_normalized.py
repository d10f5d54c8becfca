from django.db import migrations

import accounts.names


def normalize_existing_names(apps, schema_editor):
    """Names stored before normalisation: invisible controls out, NFC, whitespace collapsed."""
    User = apps.get_model("accounts", "User")
    changed = []
    for pk, full_name in User.objects.order_by("pk").values_list("pk", "full_name").iterator(chunk_size=2000):
        normalized = accounts.names.normalize_name(full_name)
        if normalized != full_name:
            changed.append(User(pk=pk, full_name=normalized))
    User.objects.bulk_update(changed, ["full_name"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="full_name",
            field=accounts.names.NameField(blank=True, max_length=200),
        ),
        migrations.RunPython(normalize_existing_names, migrations.RunPython.noop, elidable=True),
    ]
