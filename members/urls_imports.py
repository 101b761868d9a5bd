"""URLs in the members namespace (see members/urls.py)."""

urlpatterns: list = []
