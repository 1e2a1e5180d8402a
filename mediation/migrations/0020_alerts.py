"""District governance's early warnings (issue 13): alerts, their notes, suggestion letters
and monthly reports."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from cases.warnings.rules import AlertState
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0019_dashboard')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Alert',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('fingerprint', fields.CharField(unique=True, max_length=64)),
                ('rule', fields.CharField(max_length=20)),
                ('scope', fields.CharField(max_length=20)),
                ('subject_key', fields.CharField(max_length=200)),
                ('subject_label', fields.CharField(max_length=200)),
                ('week', fields.CharField(max_length=10)),
                ('parameters', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('figures', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(default=AlertState.NEW, description='NEW: new\nACKNOWLEDGED: acknowledged\nRESOLVED: resolved', enum_type=AlertState, max_length=16)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('partner_notified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('regulator_notified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'governance_alert', 'app': 'models', 'indexes': [Index(fields=['state', 'raised_at']), Index(fields=['rule', 'raised_at'])], 'pk_attr': 'id', 'table_description': 'A rule that fired for one subject in one week: raised once (`fingerprint` is unique'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertNote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('alert', fields.ForeignKeyField('models.Alert', source_field='alert_id', db_constraint=True, to_field='id', related_name='notes', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='alert_notes', on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharField(max_length=30)),
                ('state_from', fields.CharField(default='', max_length=16)),
                ('state_to', fields.CharField(default='', max_length=16)),
                ('text', fields.TextField(default='', unique=False)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'governance_alert_note', 'app': 'models', 'indexes': [Index(fields=['alert_id', 'at'])], 'pk_attr': 'id', 'table_description': 'Who did what to an alert and when: a note, a state change, a notification, a letter.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MonthlyReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('month', fields.CharField(unique=True, max_length=7)),
                ('pdf_path', fields.CharField(default='', max_length=300)),
                ('pdf_sha256', fields.CharField(default='', max_length=64)),
                ('pdf_size', fields.IntField(default=0)),
                ('requested_by', fields.ForeignKeyField('models.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='monthly_reports', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'governance_monthly_report', 'app': 'models', 'pk_attr': 'id', 'table_description': "The district's monthly report PDF: one per month (the job's and on demand alike)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SuggestionLetter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('alert', fields.ForeignKeyField('models.Alert', source_field='alert_id', db_constraint=True, to_field='id', related_name='letters', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=16)),
                ('addressee', fields.CharField(max_length=200)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(unique=False)),
                ('state', fields.CharField(default='draft', max_length=8)),
                ('partner', fields.ForeignKeyField('models.PartnerPlatform', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='suggestion_letters', on_delete=OnDelete.SET_NULL)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='letters_drafted', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('issued_by', fields.ForeignKeyField('models.User', source_field='issued_by_id', null=True, db_constraint=True, to_field='id', related_name='letters_issued', on_delete=OnDelete.SET_NULL)),
                ('issued_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('pdf_path', fields.CharField(default='', max_length=300)),
                ('pdf_sha256', fields.CharField(default='', max_length=64)),
                ('pdf_size', fields.IntField(default=0)),
            ],
            options={'table': 'governance_letter', 'app': 'models', 'indexes': [Index(fields=['alert_id'])], 'pk_attr': 'id', 'table_description': 'A governance suggestion (诉源治理建议书) or a judicial suggestion (司法建议) drafted'},
            bases=['Model'],
        ),
    ]
