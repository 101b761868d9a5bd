from django.core.exceptions import ValidationError


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
