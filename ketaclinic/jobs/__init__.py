"""Background jobs for the whole project: django-tasks with its database backend
(django-tasks-db; Django 6 will carry ``django.tasks`` itself). A job is a ``@task`` function
in the app that owns it, enqueued with ``.enqueue(...)`` (after commit: ``on_commit``);
``ketaclinic worker`` runs them, and every ``periodic.every(...)`` job on its interval."""
