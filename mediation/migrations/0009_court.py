from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_outcomes_and_court')]

    initial = False

    operations = [
        ops.AddField(
            model_name='MediationSession',
            name='sequence',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='CourtFiling',
            name='links_revoked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='CourtFiling',
            name='links_revoked_reason',
            field=fields.CharField(default='', max_length=32),
        ),
    ]
