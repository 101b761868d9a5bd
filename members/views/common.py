from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect


def apply_service(form, call):
    """Run a service; turn its ValidationError into form errors so nothing typed is lost."""
    try:
        return call()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
        return None


def apply_transition(request, obj, call, done: str, to: str):
    """A button that moves one object on (open, close, finish…): the service's refusal shown as an
    error, its success as `done`; back to the object's page (the URL name `to`, by uid) either way."""
    try:
        call(obj)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(to, obj.uid)
