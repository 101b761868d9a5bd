"""PostgreSQL: leave room on each page of the month summaries, so the in-place updates every write
makes (HOT updates) keep a unit's months on the pages the rebuild wrote them to in key order."""

from django.db import migrations

TABLES = ("meetings_unitmonth", "meetings_cellmonth")


def set_fillfactor(apps, schema_editor, value=70):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")


def reset_fillfactor(apps, schema_editor):
    set_fillfactor(apps, schema_editor, 100)


class Migration(migrations.Migration):
    dependencies = [("meetings", "0005_member_year")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
