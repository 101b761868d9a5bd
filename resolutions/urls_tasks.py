"""Tasks, progress reports and the meeting's review (see resolutions/urls.py)."""

from django.urls import path

from .views import tasks

urlpatterns = [
    path("tasks/mine/", tasks.my_tasks, name="my_tasks"),
    path("units/<uuid:unit_uid>/tasks/", tasks.unit_tasks, name="unit_tasks"),
    path("units/<uuid:unit_uid>/tasks/new/", tasks.task_create, name="task_create"),
    path("tasks/<uuid:uid>/", tasks.task_detail, name="task"),
    path("tasks/<uuid:uid>/edit/", tasks.task_edit, name="task_edit"),
    path("tasks/<uuid:uid>/progress/", tasks.task_progress, name="task_progress"),
    path("tasks/<uuid:uid>/status/", tasks.task_status, name="task_status"),
    path("tasks/<uuid:uid>/history/", tasks.task_history, name="task_history"),
    path("tasks/<uuid:uid>/review/<uuid:meeting_uid>/", tasks.task_review, name="task_review"),
    path("r/<uuid:uid>/tasks/", tasks.resolution_tasks, name="resolution_tasks"),
]
