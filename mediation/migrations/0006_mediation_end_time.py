from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_mediator_record_counted_live')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Case',
            name='mediation_ended_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
