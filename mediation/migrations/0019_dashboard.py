"""District governance (issue 13): the log of every view of figures (who, which view, which
filter, when)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from cases.governance.models import Audience
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0018_analytics')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FigureView',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='figure_views', on_delete=OnDelete.SET_NULL)),
                ('partner', fields.ForeignKeyField('models.PartnerPlatform', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='figure_views', on_delete=OnDelete.SET_NULL)),
                ('audience', fields.CharEnumField(description='GOVERNANCE: governance\nORGANISATION: organisation\nPARTNER: partner\nPUBLIC: public', enum_type=Audience, max_length=16)),
                ('view', fields.CharField(max_length=40)),
                ('filters', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('viewed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'figure_view', 'app': 'models', 'indexes': [Index(fields=['viewed_at']), Index(fields=['user_id', 'viewed_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
