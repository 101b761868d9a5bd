"""{% agenda_item_details meeting item %}: what higher apps show under an agenda item (meetings.agenda)."""

from django import template

from meetings import agenda

register = template.Library()


@register.simple_tag(takes_context=True)
def agenda_item_details(context, meeting, item, document=False):
    return agenda.item_details(meeting, item, document=document, request=context.get("request"))
