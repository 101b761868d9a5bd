app_name = "cells"
urlpatterns: list = []
