import datetime

import factory

from cells.models import PartyUnit
from members.models import Member, Membership, Position, User


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyUnit

    kind = PartyUnit.Kind.CELL
    name = factory.Sequence(lambda n: f"Chi bộ số {n}")
    unit_type = PartyUnit.UnitType.RESIDENTIAL
    place_name = "Tam Đảo"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("mat-khau-123")


class MemberFactory(factory.django.DjangoModelFactory):
    """A member on the roll of `cell` (a membership from `joined_on`)."""

    class Meta:
        model = Member
        skip_postgeneration_save = True

    full_name = factory.Sequence(lambda n: f"Nguyễn Văn Thành {n}")
    birth_date = datetime.date(1980, 5, 1)
    gender = Member.Gender.MALE
    card_number = factory.Sequence(lambda n: f"{79000000 + n}")
    admitted_on = datetime.date(2010, 3, 1)
    full_member_on = datetime.date(2011, 3, 1)

    @classmethod
    def _create(cls, model_class, *args, cell=None, group=None, joined_on=None, **kwargs):
        member = super()._create(model_class, *args, home_unit=cell, **kwargs)
        if cell is not None:
            Membership.objects.create(
                member=member, cell=cell, group=group, start=joined_on or datetime.date(2015, 1, 1)
            )
        return member


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    role = Position.Role.SECRETARY
    start = datetime.date(2020, 1, 1)
