"""Every write to members, memberships, transfers, positions and logins goes through here."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import PartyUnit
from members import hooks
from members.models import DuesPayment, Member, Membership, Position, StatusPeriod, Transfer, User

MEMBER_FIELDS = (
    "full_name",
    "birth_date",
    "gender",
    "card_number",
    "admitted_on",
    "full_member_on",
    "phone",
    "email",
    "works_away",
)


def _check_cell(cell: PartyUnit, group: PartyUnit | None) -> None:
    if cell.kind != PartyUnit.Kind.CELL:
        raise ValidationError({"cell": _("A membership must point at a party cell.")})
    if group is not None and group.parent_id != cell.pk:
        raise ValidationError({"group": _("The party group must belong to the chosen cell.")})


@transaction.atomic
def member_create(
    *, cell: PartyUnit, group: PartyUnit | None = None, joined_on: datetime.date | None = None, by: User, **fields
) -> Member:
    """A new member record on the roll of a cell from joined_on (default: today)."""
    _check_cell(cell, group)
    member = Member(**{k: v for k, v in fields.items() if k in MEMBER_FIELDS}, home_unit=cell)
    member.full_clean()
    member.save()
    membership = Membership(member=member, cell=cell, group=group, start=joined_on or timezone.localdate())
    membership.full_clean()
    membership.save()
    hooks.member_changed(member_ids=[member.pk])
    return member


@transaction.atomic
def member_update(*, member: Member, group: PartyUnit | None = ..., by: User, **fields) -> Member:
    for name, value in fields.items():
        if name in MEMBER_FIELDS:
            setattr(member, name, value)
    member.full_clean()
    member.save()
    if {"admitted_on", "ended_on", "full_name"} & set(fields):
        # The dates decide which months are due; the name shows on (and orders) the at-risk lists.
        hooks.member_changed(member_ids=[member.pk])
    if member.user_id and "email" in fields:
        # Password reset mails the login's address: keep it the member's current one.
        User.objects.filter(pk=member.user_id).update(email=member.email)
    if group is not ...:
        current = member.memberships.filter(end__isnull=True).select_related("cell").first()
        if current and current.group_id != (group.pk if group else None):
            _check_cell(current.cell, group)
            current.group = group
            current.save(update_fields=["group"])
    return member


@transaction.atomic
def status_period_add(*, member: Member, kind: str, start, end=None, reason: str, by: User) -> StatusPeriod:
    period = StatusPeriod(member=member, kind=kind, start=start, end=end, reason=reason)
    period.full_clean()
    period.save()
    hooks.roll_changed(cell_ids=member.memberships.values_list("cell_id", flat=True), since=start)
    return period


@transaction.atomic
def member_end(*, member: Member, on: datetime.date, reason: str, by: User) -> Member:
    """The member leaves the rolls (left, died, removed): roll closed, login deactivated."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    member.ended_on, member.end_reason = on, reason
    member.full_clean()
    member.save(update_fields=["ended_on", "end_reason"])
    _save_each(Membership.objects.filter(member=member, end__isnull=True), end=max(on, _open_start(member, on)))
    _save_each(Position.objects.filter(member=member, end__isnull=True), end=on)
    _save_each(
        Transfer.objects.filter(member=member, state=Transfer.State.PENDING),
        state=Transfer.State.CANCELLED,
        decided_by=by,
        decided_at=timezone.now(),
    )
    if member.user_id:
        User.objects.filter(pk=member.user_id).update(is_active=False)
    hooks.roll_changed(cell_ids=member.memberships.values_list("cell_id", flat=True), since=on)
    return member


def _save_each(queryset, **changes) -> None:
    """Change rows one by one with save(), so each change lands in the audit history."""
    for row in queryset.select_for_update():
        for name, value in changes.items():
            setattr(row, name, value)
        row.save(update_fields=list(changes))


def _decide(transfer: Transfer, state: str, by: User) -> Transfer:
    """Move a pending transfer to its final state; the row lock makes a second decision fail."""
    locked = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("member", "from_cell", "to_cell")
        .get(pk=transfer.pk)
    )
    if locked.state != Transfer.State.PENDING:
        raise ValidationError(_("This transfer is no longer waiting for acceptance."))
    locked.state, locked.decided_by, locked.decided_at = state, by, timezone.now()
    locked.save(update_fields=["state", "decided_by", "decided_at"])
    return locked


def _open_start(member: Member, on: datetime.date) -> datetime.date:
    start = member.memberships.filter(end__isnull=True).values_list("start", flat=True).first()
    # A roll must end after it starts; leaving on the joining day closes it the day after.
    return start + datetime.timedelta(days=1) if start and start >= on else on


# --- Transfers (chuyển sinh hoạt) -------------------------------------------------------------


@transaction.atomic
def transfer_out(
    *,
    member: Member,
    to_cell: PartyUnit | None,
    destination_text: str = "",
    date: datetime.date,
    reason: str = "",
    by: User,
) -> Transfer:
    """The sending cell records the transfer; the member leaves its roll on that date."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    current = member.memberships.filter(end__isnull=True).select_related("cell").first()
    if current is None:
        raise ValidationError(_("This member is not on any cell's roll."))
    if Transfer.objects.filter(member=member, state=Transfer.State.PENDING).exists():
        raise ValidationError(_("A transfer of this member is already waiting for acceptance."))
    if to_cell is None and not destination_text.strip():
        raise ValidationError({"to_cell": _("Choose the receiving cell or name the destination.")})
    if to_cell is not None:
        if to_cell.kind != PartyUnit.Kind.CELL:
            raise ValidationError({"to_cell": _("The receiving unit must be a party cell.")})
        if to_cell.pk == current.cell_id:
            raise ValidationError({"to_cell": _("The member is already in this cell.")})
    if date <= current.start:
        raise ValidationError(
            {
                "date": _("The transfer date must be after the member joined this cell (%(date)s).")
                % {"date": current.start.strftime("%d/%m/%Y")}
            }
        )
    current.end = date
    current.save(update_fields=["end"])
    transfer = Transfer(
        member=member,
        from_cell=current.cell,
        to_cell=to_cell,
        destination_text=destination_text.strip(),
        date=date,
        reason=reason,
        requested_by=by,
    )
    if to_cell is None:
        # Leaving for an organisation outside the system: nothing to accept here, it is complete.
        transfer.state, transfer.decided_by, transfer.decided_at = Transfer.State.ACCEPTED, by, timezone.now()
    transfer.full_clean()
    transfer.save()
    hooks.roll_changed(cell_ids=[current.cell_id], since=date)
    return transfer


@transaction.atomic
def transfer_accept(*, transfer: Transfer, group: PartyUnit | None = None, by: User) -> Membership:
    """The receiving cell (or staff above both) accepts: the member joins its roll today."""
    transfer = _decide(transfer, Transfer.State.ACCEPTED, by)
    if transfer.to_cell is None:
        raise ValidationError(_("This transfer leaves the system; there is nothing to accept here."))
    _check_cell(transfer.to_cell, group)
    start = max(transfer.date, timezone.localdate())
    membership = Membership(member=transfer.member, cell=transfer.to_cell, group=group, start=start)
    membership.full_clean()
    membership.save()
    _save_each(Member.objects.filter(pk=transfer.member_id), home_unit=transfer.to_cell)
    # Positions held in the old cell end with the move.
    _save_each(
        Position.objects.filter(member=transfer.member, unit=transfer.from_cell, end__isnull=True),
        end=start - datetime.timedelta(days=1),
    )
    hooks.roll_changed(cell_ids=[transfer.to_cell_id], since=start)
    return membership


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, by: User) -> Transfer:
    """The sending cell withdraws a pending transfer: the member is back on its roll."""
    transfer = _decide(transfer, Transfer.State.CANCELLED, by)
    last = Membership.objects.filter(member=transfer.member, cell=transfer.from_cell, end=transfer.date).first()
    if last:
        last.end = None
        last.save(update_fields=["end"])
    hooks.roll_changed(cell_ids=[transfer.from_cell_id], since=transfer.date)
    return transfer


@transaction.atomic
def member_move(
    *, member: Member, to_cell: PartyUnit, group: PartyUnit | None = None, date: datetime.date, by: User
) -> Membership:
    """Staff move a member directly between two cells of their subtree."""
    transfer = transfer_out(member=member, to_cell=to_cell, date=date, reason=_("Moved by staff"), by=by)
    return transfer_accept(transfer=transfer, group=group, by=by)


# --- Positions ---------------------------------------------------------------------------------


@transaction.atomic
def position_add(
    *,
    unit: PartyUnit,
    role: str,
    start: datetime.date,
    end: datetime.date | None = None,
    member: Member | None = None,
    user: User | None = None,
    by: User,
) -> Position:
    position = Position(unit=unit, role=role, start=start, end=end, member=member, user=user)
    position.full_clean()
    position.save()
    return position


@transaction.atomic
def position_end(*, position: Position, end: datetime.date, by: User) -> Position:
    position.end = end
    position.full_clean()
    position.save(update_fields=["end"])
    return position


# --- Dues (đảng phí) -------------------------------------------------------------------------------


@transaction.atomic
def dues_record(*, member: Member, year: int, month: int, amount: int, paid_on: datetime.date, by: User) -> DuesPayment:
    """Record (or correct) the member's payment for a month: one record per member and month."""
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    payment = DuesPayment.objects.select_for_update().filter(member=member, year=year, month=month).first()
    if payment is None:
        payment = DuesPayment(member=member, year=year, month=month)
    payment.amount, payment.paid_on, payment.recorded_by = amount, paid_on, by
    payment.full_clean()
    payment.save()
    hooks.member_changed(member_ids=[member.pk])
    return payment


@transaction.atomic
def dues_remove(*, member: Member, year: int, month: int, by: User) -> None:
    for payment in DuesPayment.objects.filter(member=member, year=year, month=month):
        payment.delete()
    hooks.member_changed(member_ids=[member.pk])
