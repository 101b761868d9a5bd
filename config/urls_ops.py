"""Operations URLs: health checks and the status panel."""

urlpatterns: list = []
