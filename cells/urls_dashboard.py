from django.urls import path

from cells import exports, views_dashboard

app_name = "dashboard"
urlpatterns = [
    path("", views_dashboard.dashboard_home, name="home"),
    path("<uuid:uid>/", views_dashboard.unit_dashboard, name="unit"),
    path("<uuid:uid>/at-risk/", views_dashboard.at_risk, name="at_risk"),
    path("<uuid:uid>/export.<str:fmt>", exports.export, name="export"),
    path("<uuid:uid>/report.pdf", exports.report_pdf, name="report"),
    path("member/<uuid:uid>/", views_dashboard.member_dashboard, name="member"),
]
