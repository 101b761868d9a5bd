from django.urls import include, path

from members.views import records

app_name = "members"
urlpatterns = [
    path("", records.home, name="home"),
    path("", include("members.urls_accounts")),
    path("", include("members.urls_imports")),
    path("", include("members.urls_audit")),
    path("", include("members.urls_inbox")),
    path("", include("members.urls_unsubscribe")),
    path("members/new/<uuid:unit_uid>/", records.member_create, name="create"),
    path("members/<uuid:uid>/", records.member_detail, name="detail"),
    path("members/<uuid:uid>/edit/", records.member_edit, name="edit"),
    path("members/<uuid:uid>/status/new/", records.status_period_create, name="status_period_create"),
    path("members/<uuid:uid>/transfer/", records.transfer_out, name="transfer_out"),
    path("members/<uuid:uid>/move/", records.member_move, name="move"),
    path("members/<uuid:uid>/end/", records.member_end, name="end"),
    path("transfers/<uuid:uid>/", records.transfer_detail, name="transfer_detail"),
    path("transfers/<uuid:uid>/accept/", records.transfer_accept, name="transfer_accept"),
    path("transfers/<uuid:uid>/cancel/", records.transfer_cancel, name="transfer_cancel"),
    path("units/<uuid:unit_uid>/positions/new/", records.position_create, name="position_create"),
    path("positions/<uuid:uid>/end/", records.position_end, name="position_end"),
]
