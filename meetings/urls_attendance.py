"""URLs of the meetings app (see meetings/urls.py)."""

urlpatterns: list = []
