"""CSS classes of the retention picture: the presentation of the core's simulation."""

from django import template

from policies.domain.retention.results import Backup, CalendarCell

register = template.Library()


@register.filter
def mark_css(backup: Backup) -> str:
    """Solid when kept, hollow when deleted, round for a month's first."""
    return f"mark {'kept' if backup.kept else 'deleted'}{' first' if backup.first_of_month else ''}"


@register.filter
def cell_css(cell: CalendarCell) -> str:
    """A day of the picture: greyed outside the simulated span, marked on the 1st of a month."""
    outside = "" if cell.in_span else " outside"
    return f"cal-day{outside}{' month-start' if cell.day.day == 1 else ''}"
