from tortoise import migrations
from tortoise.migrations import operations as ops
from mediation.schema_ops import DescriptionOnly
import functools
from cases.accounts.models import Role
from cases.models import OutboxStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0014_partner_api')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PartnerMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='partner_membership', on_delete=OnDelete.CASCADE)),
                ('partner', fields.ForeignKeyField('models.PartnerPlatform', source_field='partner_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'partner_member', 'app': 'models', 'pk_attr': 'id', 'table_description': "An account (role `partner_admin`) that administers one partner platform's webhooks."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('models.PartnerPlatform', source_field='partner_id', db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=500)),
                ('description', fields.CharField(default='', max_length=200)),
                ('events', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('is_active', fields.BooleanField(default=True)),
                ('secret', fields.CharField(max_length=100)),
                ('previous_secret', fields.CharField(default='', max_length=100)),
                ('previous_secret_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'models', 'indexes': [Index(fields=['partner_id', 'is_active'])], 'pk_attr': 'id', 'table_description': 'Where a partner wants its events, which ones, and the secret(s) that sign them.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('msg_id', fields.CharField(unique=True, max_length=64)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('partner', fields.ForeignKeyField('models.PartnerPlatform', source_field='partner_id', db_constraint=True, to_field='id', related_name='webhook_deliveries', on_delete=OnDelete.CASCADE)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', null=True, db_constraint=True, to_field='id', related_name='webhook_deliveries', on_delete=OnDelete.CASCADE)),
                ('event_type', fields.CharField(max_length=60)),
                ('destination', fields.CharField(default='partner', max_length=40)),
                ('path', fields.CharField(default='', max_length=200)),
                ('content_type', fields.CharField(default='application/json', max_length=80)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: pending\nDELIVERED: delivered\nDEAD: dead', enum_type=OutboxStatus, max_length=12)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(default='', max_length=64)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('last_status_code', fields.IntField(null=True)),
                ('response', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['endpoint_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One event for one endpoint: written in the transaction of the timeline event that'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='User',
            name='role',
            field=fields.CharEnumField(description='DISPUTANT: disputant\nMEDIATOR: mediator\nORG_ADMIN: org_admin\nCOURT_CLERK: court_clerk\nPLATFORM_ADMIN: platform_admin\nMERCHANT: merchant\nPARTNER_ADMIN: partner_admin', enum_type=Role, max_length=20),
        ),
    ]
