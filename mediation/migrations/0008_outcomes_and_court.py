from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from cases.models import FilingKind, FilingStatus, OutboxStatus
from cases.status import Status
from json import dumps, loads
from cases.agreements.models import AgreementStatus, SignatureMethod, SignerRole
from cases.performance.models import PerformanceStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_session_generation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AgreementVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='agreement_versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('template', fields.CharField(max_length=20)),
                ('status', fields.CharEnumField(default=AgreementStatus.DRAFT, description='DRAFT: draft\nSIGNING: signing\nEFFECTIVE: effective\nSUPERSEDED: superseded', enum_type=AgreementStatus, max_length=12)),
                ('content', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('text', fields.TextField(default='', unique=False)),
                ('sha256', fields.CharField(default='', max_length=64)),
                ('drafted_by', fields.ForeignKeyField('models.User', source_field='drafted_by_id', db_constraint=True, to_field='id', related_name='drafted_agreements', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('frozen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('effective_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sealed_by', fields.ForeignKeyField('models.Organisation', source_field='sealed_by_id', null=True, db_constraint=True, to_field='id', related_name='sealed_agreements', on_delete=OnDelete.RESTRICT)),
                ('seal', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('pdf_sha256', fields.CharField(null=True, db_index=True, max_length=64)),
                ('pdf_size', fields.IntField(null=True)),
                ('verification_code', fields.CharField(null=True, unique=True, max_length=32)),
            ],
            options={'table': 'agreement_version', 'app': 'models', 'unique_together': (('case', 'number'),), 'pk_attr': 'id', 'table_description': "One version of a case's mediation agreement (调解协议书). Versions are never edited once"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AgreementSignature',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.ForeignKeyField('models.AgreementVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='signatures', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='APPLICANT: applicant\nRESPONDENT: respondent\nMEDIATOR: mediator', enum_type=SignerRole, max_length=12)),
                ('signer', fields.ForeignKeyField('models.User', source_field='signer_id', db_constraint=True, to_field='id', related_name='agreement_signatures', on_delete=OnDelete.RESTRICT)),
                ('method', fields.CharEnumField(description='PASSWORD: password\nSMS_CODE: sms_code', enum_type=SignatureMethod, max_length=12)),
                ('signed_sha256', fields.CharField(max_length=64)),
                ('attestation', fields.CharField(max_length=128)),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'agreement_signature', 'app': 'models', 'unique_together': (('version', 'role'),), 'pk_attr': 'id', 'table_description': 'An electronic signature on one version, made after the signer re-confirmed identity.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CourtFiling',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('filing_id', fields.CharField(unique=True, max_length=64)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='court_filings', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='TRANSFER: transfer\nCONFIRMATION: confirmation', enum_type=FilingKind, max_length=16)),
                ('wire_format', fields.CharField(default='json', max_length=8)),
                ('status', fields.CharEnumField(description='AWAITING_PARTIES: awaiting_parties\nQUEUED: queued\nRECEIVED: received\nACCEPTED: accepted\nRETURNED: returned\nDOCKETED: docketed\nCONFIRMED: confirmed\nREJECTED: rejected', enum_type=FilingStatus, max_length=20)),
                ('corrects', fields.ForeignKeyField('models.CourtFiling', source_field='corrects_id', null=True, db_constraint=True, to_field='id', related_name='corrections', on_delete=OnDelete.RESTRICT)),
                ('applicants', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('precheck', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('payload_sha256', fields.CharField(default='', max_length=64)),
                ('receipt_id', fields.CharField(null=True, max_length=64)),
                ('court_case_number', fields.CharField(null=True, max_length=64)),
                ('court_reason', fields.TextField(default='', unique=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'court_filing', 'app': 'models', 'indexes': [Index(fields=['case_id']), Index(fields=['status'])], 'pk_attr': 'id', 'table_description': 'One package sent (or to be sent) to the court. A corrected resubmission is a new'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CourtCallback',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webhook_id', fields.CharField(unique=True, max_length=64)),
                ('filing', fields.ForeignKeyField('models.CourtFiling', source_field='filing_id', null=True, db_constraint=True, to_field='id', related_name='callbacks', on_delete=OnDelete.CASCADE)),
                ('event_type', fields.CharField(max_length=80)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('applied', fields.BooleanField(default=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'court_callback', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Every signed status callback received from the court, kept once per webhook id.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EndRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.OneToOneField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='end_record', on_delete=OnDelete.CASCADE)),
                ('ending', fields.CharEnumField(description='SUBMITTED: submitted\nAWAITING_CONSENT: awaiting_consent\nREFUSED: refused\nNO_RESPONSE: no_response\nACCEPTED: accepted\nASSIGNING: assigning\nAWAITING_MEDIATOR: awaiting_mediator\nIN_MEDIATION: in_mediation\nSETTLED: settled\nFAILED: failed\nWITHDRAWN: withdrawn\nTIMED_OUT: timed_out\nCONFIRMATION_REQUESTED: confirmation_requested\nCONFIRMED: confirmed\nCONFIRMATION_REJECTED: confirmation_rejected\nTRANSFERRED: transferred\nRETURNED_FOR_CORRECTION: returned_for_correction\nDOCKETED: docketed', enum_type=Status, max_length=32)),
                ('undisputed_facts', fields.TextField(default='', unique=False)),
                ('reasons_for_failure', fields.TextField(default='', unique=False)),
                ('cost_raising_conduct', fields.TextField(default='', unique=False)),
                ('other_routes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='end_records', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'end_record', 'app': 'models', 'pk_attr': 'id', 'table_description': "The mediator's record when mediation ends without agreement (online mediation rules"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('msg_id', fields.CharField(unique=True, max_length=64)),
                ('destination', fields.CharField(max_length=40)),
                ('path', fields.CharField(max_length=200)),
                ('content_type', fields.CharField(max_length=80)),
                ('body', fields.TextField(unique=False)),
                ('filing', fields.ForeignKeyField('models.CourtFiling', source_field='filing_id', null=True, db_constraint=True, to_field='id', related_name='outbox', on_delete=OnDelete.CASCADE)),
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
            options={'table': 'outbox_message', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'A request to another system, written in the transaction that decided to send it and'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PerformanceItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.ForeignKeyField('models.AgreementVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='performance', on_delete=OnDelete.CASCADE)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='performance', on_delete=OnDelete.CASCADE)),
                ('term_number', fields.IntField()),
                ('obligor_side', fields.CharField(max_length=16)),
                ('description', fields.TextField(unique=False)),
                ('due_on', fields.DateField()),
                ('status', fields.CharEnumField(default=PerformanceStatus.OPEN, description='OPEN: open\nPERFORMED: performed\nCONFIRMED: confirmed\nDISPUTED: disputed', enum_type=PerformanceStatus, max_length=12)),
                ('performed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('performed_note', fields.TextField(default='', unique=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answer_note', fields.TextField(default='', unique=False)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'performance_item', 'app': 'models', 'indexes': [Index(fields=['case_id']), Index(fields=['status', 'due_on'])], 'pk_attr': 'id', 'table_description': 'A term of an effective agreement with its time limit of performance: a deadline the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SigningCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='signing_codes', on_delete=OnDelete.CASCADE)),
                ('version', fields.ForeignKeyField('models.AgreementVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='signing_codes', on_delete=OnDelete.CASCADE)),
                ('code_hash', fields.CharField(max_length=128)),
                ('attempts', fields.IntField(default=0)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'signing_code', 'app': 'models', 'indexes': [Index(fields=['user_id', 'version_id'])], 'pk_attr': 'id', 'table_description': "A one-time code sent by SMS to confirm a signer's identity, stored as a hash."},
            bases=['Model'],
        ),
    ]
