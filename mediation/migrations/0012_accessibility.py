"""The large-text, high-contrast display (适老化) remembered per account."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0011_races")]

    initial = False

    operations = [
        ops.AddField(
            model_name="User",
            name="large_text",
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
