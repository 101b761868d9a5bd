from functools import reduce
from operator import and_

from django.contrib import admin
from django.db.models import Q
from simple_history.admin import SimpleHistoryAdmin

from cells.models import PartyUnit, Term, UnitSetting
from cells.text import fold


class FoldedSearchMixin:
    """Search also matches the accent-free search_name: "nguyen thi hang", "ĐỨC" or text typed in
    NFD find "Nguyễn Thị Hằng" and "Đức" (SQLite's LIKE folds the case of ASCII letters only)."""

    folded_search_field = "search_name"

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        words = fold(search_term.replace('"', " ")).split()
        if words:
            q = reduce(and_, (Q(**{f"{self.folded_search_field}__contains": word}) for word in words))
            results = results | queryset.filter(q)
        return results, may_have_duplicates


class TermInline(admin.TabularInline):
    model = Term
    extra = 0


class UnitSettingInline(admin.TabularInline):
    model = UnitSetting
    extra = 0


@admin.register(PartyUnit)
class PartyUnitAdmin(FoldedSearchMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "unit_type", "parent", "document_symbol", "founded_on", "dissolved_on"]
    list_filter = ["kind", "unit_type", "is_grassroots", ("dissolved_on", admin.EmptyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "search_name", "short_name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["uid", "path", "depth"]
    inlines = [TermInline, UnitSettingInline]


@admin.register(Term)
class TermAdmin(SimpleHistoryAdmin):
    list_display = ["unit", "name", "start", "end"]
    list_filter = ["name"]
    list_select_related = ["unit"]
    search_fields = ["unit__name", "unit__search_name", "name"]
    autocomplete_fields = ["unit"]


@admin.register(UnitSetting)
class UnitSettingAdmin(SimpleHistoryAdmin):
    list_display = ["unit", "key", "value"]
    list_filter = ["key"]
    list_select_related = ["unit"]
    search_fields = ["unit__name", "unit__search_name", "key"]
    autocomplete_fields = ["unit"]
