from tortoise import migrations
from tortoise.migrations import operations as ops
from mediation.schema_ops import DescriptionOnly
from cases.accounts.models import Role
from cases.negotiation.rules import EnrolmentStatus, MessageKind, NegotiationState, ProposalState
from cases.performance.models import PerformanceStatus
from cases.status import Status
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0012_accessibility')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Merchant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uscc', fields.CharField(unique=True, max_length=18)),
                ('name', fields.CharField(max_length=200)),
                ('status', fields.CharEnumField(default=EnrolmentStatus.PENDING, description='PENDING: pending\nENROLLED: enrolled\nSUSPENDED: suspended', enum_type=EnrolmentStatus, max_length=12)),
                ('answer_days', fields.IntField(default=10)),
                ('requested_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('confirmed_by', fields.ForeignKeyField('models.User', source_field='confirmed_by_id', null=True, db_constraint=True, to_field='id', related_name='merchants_confirmed', on_delete=OnDelete.SET_NULL)),
                ('vouched_by', fields.ForeignKeyField('models.PartnerPlatform', source_field='vouched_by_id', null=True, db_constraint=True, to_field='id', related_name='merchants_vouched', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'merchant', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A first-response enterprise, identified by its unified social credit code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MerchantHandler',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='handlers', on_delete=OnDelete.CASCADE)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='merchant_handler', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'merchant_handler', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An account that answers disputes for a merchant (role `merchant`).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Negotiation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.OneToOneField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='negotiation', on_delete=OnDelete.CASCADE)),
                ('merchant', fields.ForeignKeyField('models.Merchant', source_field='merchant_id', db_constraint=True, to_field='id', related_name='negotiations', on_delete=OnDelete.RESTRICT)),
                ('state', fields.CharEnumField(default=NegotiationState.OPEN, description='OPEN: open\nSETTLED: settled\nREFUSED: refused\nDECLINED: declined\nEXPIRED: expired\nWITHDRAWN: withdrawn', enum_type=NegotiationState, max_length=12)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_on', fields.DateField(null=True)),
                ('first_answer_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'negotiation', 'app': 'models', 'indexes': [Index(fields=['merchant_id', 'state'])], 'pk_attr': 'id', 'table_description': 'The negotiation of a case with its merchant, from filing until it settles or goes on.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NegotiationMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('negotiation', fields.ForeignKeyField('models.Negotiation', source_field='negotiation_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='PROPOSAL: proposal\nQUESTION: question\nREPLY: reply\nDECLINE: decline\nACCEPT: accept\nREFUSE: refuse', enum_type=MessageKind, max_length=12)),
                ('side', fields.CharField(max_length=10)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='negotiation_messages', on_delete=OnDelete.SET_NULL)),
                ('thread', fields.ForeignKeyField('models.NegotiationMessage', source_field='thread_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.CASCADE)),
                ('proposal', fields.ForeignKeyField('models.NegotiationMessage', source_field='proposal_id', null=True, db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('text', fields.TextField(default='', unique=False)),
                ('remedy_kind', fields.CharField(default='', max_length=16)),
                ('amount', fields.DecimalField(null=True, max_digits=12, decimal_places=2)),
                ('conditions', fields.TextField(default='', unique=False)),
                ('perform_by', fields.DateField(null=True)),
                ('proposal_state', fields.CharEnumField(null=True, description='OPEN: open\nACCEPTED: accepted\nREFUSED: refused\nSUPERSEDED: superseded\nLAPSED: lapsed', enum_type=ProposalState, max_length=12)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'negotiation_message', 'app': 'models', 'indexes': [Index(fields=['negotiation_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One step of a negotiation. A proposal carries its remedy, a reply names its question.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Settlement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.OneToOneField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='settlement', on_delete=OnDelete.CASCADE)),
                ('negotiation', fields.OneToOneField('models.Negotiation', source_field='negotiation_id', db_constraint=True, to_field='id', related_name='settlement', on_delete=OnDelete.CASCADE)),
                ('proposal', fields.OneToOneField('models.NegotiationMessage', source_field='proposal_id', db_constraint=True, to_field='id', related_name='settlement', on_delete=OnDelete.RESTRICT)),
                ('merchant_name', fields.CharField(max_length=200)),
                ('consumer_name', fields.CharField(max_length=100)),
                ('remedy_kind', fields.CharField(max_length=16)),
                ('amount', fields.DecimalField(null=True, max_digits=12, decimal_places=2)),
                ('conditions', fields.TextField(default='', unique=False)),
                ('perform_by', fields.DateField()),
                ('settled_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=PerformanceStatus.OPEN, description='OPEN: open\nPERFORMED: performed\nCONFIRMED: confirmed\nDISPUTED: disputed', enum_type=PerformanceStatus, max_length=12)),
                ('performed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('performed_note', fields.TextField(default='', unique=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answer_note', fields.TextField(default='', unique=False)),
                ('reopened_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'settlement', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The remedy the consumer accepted, and its performance (like a term of an agreement).'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='Case',
            name='status',
            field=fields.CharEnumField(db_index=True, description='SUBMITTED: submitted\nAWAITING_CONSENT: awaiting_consent\nAWAITING_MERCHANT: awaiting_merchant\nSETTLED_BY_NEGOTIATION: settled_by_negotiation\nREFUSED: refused\nNO_RESPONSE: no_response\nACCEPTED: accepted\nASSIGNING: assigning\nAWAITING_MEDIATOR: awaiting_mediator\nIN_MEDIATION: in_mediation\nSETTLED: settled\nFAILED: failed\nWITHDRAWN: withdrawn\nTIMED_OUT: timed_out\nCONFIRMATION_REQUESTED: confirmation_requested\nCONFIRMED: confirmed\nCONFIRMATION_REJECTED: confirmation_rejected\nTRANSFERRED: transferred\nRETURNED_FOR_CORRECTION: returned_for_correction\nDOCKETED: docketed', enum_type=Status, max_length=32),
        ),
        ops.AddField(
            model_name='CaseDeadline',
            name='length',
            field=fields.IntField(null=True),
        ),
        DescriptionOnly(
            model_name='EndRecord',
            name='ending',
            field=fields.CharEnumField(description='SUBMITTED: submitted\nAWAITING_CONSENT: awaiting_consent\nAWAITING_MERCHANT: awaiting_merchant\nSETTLED_BY_NEGOTIATION: settled_by_negotiation\nREFUSED: refused\nNO_RESPONSE: no_response\nACCEPTED: accepted\nASSIGNING: assigning\nAWAITING_MEDIATOR: awaiting_mediator\nIN_MEDIATION: in_mediation\nSETTLED: settled\nFAILED: failed\nWITHDRAWN: withdrawn\nTIMED_OUT: timed_out\nCONFIRMATION_REQUESTED: confirmation_requested\nCONFIRMED: confirmed\nCONFIRMATION_REJECTED: confirmation_rejected\nTRANSFERRED: transferred\nRETURNED_FOR_CORRECTION: returned_for_correction\nDOCKETED: docketed', enum_type=Status, max_length=32),
        ),
        DescriptionOnly(
            model_name='User',
            name='role',
            field=fields.CharEnumField(description='DISPUTANT: disputant\nMEDIATOR: mediator\nORG_ADMIN: org_admin\nCOURT_CLERK: court_clerk\nPLATFORM_ADMIN: platform_admin\nMERCHANT: merchant', enum_type=Role, max_length=20),
        ),
    ]
