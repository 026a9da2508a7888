"""The core's words for its values, as template filters: ``{{ run|run_time_words }}``.

Each filter is the function of ``policies.domain.words`` of the same name, so a template says a
run, a backup, the long run or a zone's change exactly as the API's ``message`` and ``text`` do.
"""

from django import template

from policies.domain import words

register = template.Library()

for _name in (
    "run_local_words",
    "run_date_words",
    "run_time_words",
    "run_zone_time_words",
    "run_utc_time_words",
    "backup_created_words",
    "backup_time_words",
    "backup_deleted_words",
    "retention_summary",
    "steady_oldest_words",
    "steady_gap_words",
    "local_time_change_words",
    "size_words",
    "bytes_words",
):
    register.filter(_name, getattr(words, _name))
