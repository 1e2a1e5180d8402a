"""District governance staff (issue 13): a role of their own."""

from tortoise import migrations
from mediation.schema_ops import DescriptionOnly
from cases.accounts.models import Role
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0016_one_dispute")]

    initial = False

    operations = [
        DescriptionOnly(
            model_name="User",
            name="role",
            field=fields.CharEnumField(
                description="DISPUTANT: disputant\nMEDIATOR: mediator\nORG_ADMIN: org_admin\nCOURT_CLERK: court_clerk\nPLATFORM_ADMIN: platform_admin\nMERCHANT: merchant\nPARTNER_ADMIN: partner_admin\nGOVERNANCE: governance",
                enum_type=Role,
                max_length=20,
            ),
        ),
    ]
