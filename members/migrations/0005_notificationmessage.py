# The rendered text moves to NotificationMessage, shared by every recipient's rows. Rows planned
# before this (development databases only) are dropped: they are re-planned by the next change.

import django.db.models.deletion
from django.db import migrations, models


def drop_rows(apps, schema_editor):
    apps.get_model("members", "Notification").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("members", "0004_notification_notificationpreference"),
    ]

    operations = [
        migrations.RunPython(drop_rows, migrations.RunPython.noop),
        migrations.CreateModel(
            name="NotificationMessage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=64, verbose_name="kind")),
                ("object_id", models.PositiveBigIntegerField()),
                ("occurrence", models.CharField(max_length=64, verbose_name="occurrence")),
                ("subject", models.CharField(max_length=300, verbose_name="subject")),
                ("body", models.TextField(verbose_name="text")),
                ("url", models.CharField(blank=True, max_length=300, verbose_name="link")),
                ("calendar", models.CharField(blank=True, max_length=8)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "content_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="contenttypes.contenttype"
                    ),
                ),
            ],
            options={
                "verbose_name": "notification message",
                "verbose_name_plural": "notification messages",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "content_type", "object_id", "occurrence"), name="notification_message_once"
                    )
                ],
            },
        ),
        migrations.RemoveField(model_name="notification", name="subject"),
        migrations.RemoveField(model_name="notification", name="body"),
        migrations.RemoveField(model_name="notification", name="url"),
        migrations.RemoveField(model_name="notification", name="calendar"),
        migrations.AddField(
            model_name="notification",
            name="message",
            field=models.ForeignKey(
                default=None,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to="members.notificationmessage",
            ),
            preserve_default=False,
        ),
    ]
