"""Sign-in, password and member-login URLs (kept in the members namespace)."""

urlpatterns: list = []
